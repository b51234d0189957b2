from django.shortcuts import get_object_or_404, render

from .models import Category, Product


def product_list(request):
    return render(
        request,
        "shop/product_list.html",
        {
            "products": Product.objects.order_by("name"),
            "categories": Category.objects.order_by("name"),
        },
    )


def product_detail(request, slug):
    product = get_object_or_404(Product, slug=slug)
    others = list(Product.objects.exclude(pk=product.pk).order_by("-total_views")[:4])
    return render(request, "shop/product_detail.html", {"product": product, "others": others})


def category_detail(request, slug):
    category = get_object_or_404(Category, slug=slug)
    # The specification's Category has no relation to Product; show the catalogue.
    products = Product.objects.order_by("-total_views")[:6]
    return render(
        request, "shop/category_detail.html", {"category": category, "products": products}
    )
