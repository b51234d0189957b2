from django.shortcuts import get_object_or_404, render

from .models import Article


def article_detail(request, slug):
    article = get_object_or_404(Article, slug=slug)
    return render(request, "testapp/article.html", {"article": article})


def article_list(request):
    return render(request, "testapp/list.html", {"articles": Article.objects.order_by("pk")})


def dashboard(request):
    """The specification's dashboard: stat tags for every article in a list."""
    return render(
        request, "testapp/dashboard.html", {"popular_articles": Article.objects.order_by("pk")}
    )


def live_article(request, slug):
    """Tracker + live counter; ?track=0 leaves the tracker out, ?debug=1, ?sync=1, ?refresh=N."""
    article = get_object_or_404(Article, slug=slug)
    return render(
        request,
        "testapp/live_article.html",
        {
            "article": article,
            "track": request.GET.get("track") != "0",
            "debug": request.GET.get("debug") == "1",
            "async_load": request.GET.get("sync") != "1",
            "refresh": request.GET.get("refresh", "1"),
        },
    )


def two_trackers(request, slug):
    article = get_object_or_404(Article, slug=slug)
    return render(request, "testapp/two_trackers.html", {"article": article})
