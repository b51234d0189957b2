from django.shortcuts import get_object_or_404, render

from .models import Article


def article_detail(request, slug):
    article = get_object_or_404(Article, slug=slug)
    return render(request, "testapp/article.html", {"article": article})


def article_list(request):
    return render(request, "testapp/list.html", {"articles": Article.objects.order_by("pk")})
