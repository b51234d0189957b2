from django.shortcuts import get_object_or_404, render

from .models import Article


def article_detail(request, slug):
    article = get_object_or_404(Article, slug=slug)
    more = Article.objects.exclude(pk=article.pk).order_by("-total_views")[:4]
    return render(request, "articles/article_detail.html", {"article": article, "more": more})
