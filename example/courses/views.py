from django.shortcuts import get_object_or_404, render

from .models import Course, Document


def course_list(request):
    return render(
        request,
        "courses/course_list.html",
        {
            "courses": Course.objects.order_by("title"),
            "documents": Document.objects.order_by("title"),
        },
    )


def course_detail(request, slug):
    course = get_object_or_404(Course, slug=slug)
    documents = Document.objects.order_by("title")[:3]
    return render(request, "courses/course_detail.html", {"course": course, "documents": documents})


def document_view(request, pk):
    document = get_object_or_404(Document, pk=pk)
    return render(request, "courses/document_view.html", {"document": document})
