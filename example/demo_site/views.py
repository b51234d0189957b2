"""The demo's own screens: the articles list, the components page and the dashboard."""

from blog.models import Article, BlogPage
from courses.models import Course, Document
from django.db.models import Sum
from django.shortcuts import render
from django.urls import reverse
from shop.models import Category, Product

from . import popularity

NAVIGATION = [
    ("home", "Articles"),
    ("product_list", "Shop"),
    ("course_list", "Courses"),
    ("components", "Components"),
    ("popular", "Popular"),
]


def navigation(request):
    """Context processor: the top navigation with the current section marked."""
    current = getattr(getattr(request, "resolver_match", None), "url_name", None)
    links = [(reverse(name), label, name == current) for name, label in NAVIGATION]
    blog = BlogPage.objects.live().order_by("-total_views").first()
    return {"nav_links": links, "nav_blog": blog}


def home(request):
    articles = list(Article.objects.order_by("-published_at"))
    totals = {
        model._meta.verbose_name_plural: model.objects.aggregate(n=Sum("total_views"))["n"] or 0
        for model in (Article, Product, Course, Document, Category, BlogPage)
    }
    return render(
        request,
        "home.html",
        {
            "articles": articles,
            "totals": totals,
            "all_views": sum(totals.values()),
            "chart": popularity.site_chart(days=90),
        },
    )


def components(request):
    article = Article.objects.order_by("-total_views").first()
    product = Product.objects.filter(price__gte=100).order_by("-total_views").first()
    page = BlogPage.objects.live().order_by("-total_views").first()
    samples = [999, 1234, 56_789, 1_250_000]
    return render(
        request,
        "components.html",
        {"article": article, "product": product, "blog_page": page, "samples": samples},
    )


def popular(request):
    return render(request, "popular.html", popularity.dashboard([Article, Product, Course]))
