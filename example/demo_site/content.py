"""Demo content: articles, products, categories, courses, documents, blog pages, an admin."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "djinsight-demo"  # noqa: S105 - a local demo on 127.0.0.1; printed at start

PARAGRAPHS = [
    "Counting page views sounds trivial until the counter becomes the hottest row in "
    "the database. Every visit turns into an UPDATE, every UPDATE takes a lock, and the "
    "page that should be served from a cache now waits on a write.",
    "djinsight keeps that write off the request path. The browser sends a beacon after "
    "the page has loaded; one Redis script bumps the live counters and appends the view "
    "to a buffer; a Celery task moves the buffer into the database in batches.",
    "The figures you see on this page are live: they include views that are still in "
    "Redis, so they move the moment someone reads the article, and they never jump "
    "backwards when the flush catches up.",
    "Daily summaries keep history cheap to query: a chart of the last ninety days reads "
    "ninety rows per object, not every single view.",
]

ARTICLES = [
    ("Getting started with djinsight", 88),
    ("Real-time counters without hammering your database", 80),
    ("Why we moved page views to Redis", 72),
    ("Exactly-once delivery, explained with a ledger", 64),
    ("Designing privacy-first analytics", 55),
    ("Template tags you will actually use", 47),
    ("Celery beat schedules that survive restarts", 40),
    ("Counting unique visitors without cookies", 33),
    ("A week of traffic, hour by hour", 26),
    ("Wagtail pages with live statistics", 19),
    ("Scaling the flush across workers", 12),
    ("What changed in djinsight this month", 5),
]

PRODUCTS = [
    (
        "Noise-cancelling headphones",
        "249.00",
        "Over-ear, 30 hours of battery, and quiet enough to debug in an open-plan office.",
    ),
    (
        "Mechanical keyboard",
        "139.00",
        "Tactile switches, aluminium case, USB-C. Every keystroke is a small pleasure.",
    ),
    ("4K monitor arm", "119.00", "Holds two screens up to 32 inches and frees your desk."),
    ("Ergonomic mouse", "79.00", "A vertical grip that your wrist will thank you for."),
    ("Laptop stand", "49.00", "Folds flat, lifts your screen to eye level."),
    ("USB-C hub", "39.00", "HDMI, Ethernet, three USB ports and a card reader in one."),
    ("Desk mat", "24.00", "Felt, 90 by 40 centimetres, in charcoal grey."),
    ("Cable organiser", "12.00", "Because the underside of your desk deserves order too."),
]

CATEGORIES = ["Audio", "Keyboards", "Desk setup", "Accessories"]

COURSES = [
    ("Django from zero to deploy", "Ada Nowak", "Beginner"),
    ("Redis data structures in practice", "Marek Zieliński", "Intermediate"),
    ("Celery for busy developers", "Priya Raman", "Intermediate"),
    ("Wagtail CMS essentials", "Tom Baker", "Beginner"),
    ("PostgreSQL performance tuning", "Ewa Kowalska", "Advanced"),
    ("Observability for web apps", "Sam Okafor", "Advanced"),
]

DOCUMENTS = [
    ("Architecture overview", "Guides"),
    ("Settings reference", "Reference"),
    ("Privacy and GDPR notes", "Policies"),
    ("Release checklist", "Guides"),
]

BLOG_PAGES = [
    ("Hello from the Wagtail blog", "This page is a Wagtail BlogPage with the statistics mixin."),
    ("Editors love live numbers", "Editors see which stories readers open, as they open them."),
    ("Publishing workflow tips", "Draft, review, publish: and watch the counter start."),
    (
        "Behind the scenes of the demo",
        "Ninety days of synthetic traffic, flushed through the real pipeline.",
    ),
]


def is_seeded() -> bool:
    from blog.models import Article

    return Article.objects.exists()


@transaction.atomic
def create_content() -> None:
    """Create every demo object once; published dates go back up to 90 days."""
    from blog.models import Article
    from courses.models import Course, Document
    from shop.models import Category, Product

    now = timezone.now()
    for i, (title, age_days) in enumerate(ARTICLES):
        body = "\n\n".join(PARAGRAPHS[i % len(PARAGRAPHS) :] + PARAGRAPHS[: i % len(PARAGRAPHS)])
        article = Article.objects.create(title=title, slug=slugify(title), content=body)
        # published_at is auto_now_add, as the specification writes it; backdate after.
        Article.objects.filter(pk=article.pk).update(published_at=now - timedelta(days=age_days))
    Product.objects.bulk_create(
        Product(name=name, slug=slugify(name), price=Decimal(price), description=text)
        for name, price, text in PRODUCTS
    )
    Category.objects.bulk_create(Category(name=name, slug=slugify(name)) for name in CATEGORIES)
    Course.objects.bulk_create(
        Course(title=t, slug=slugify(t), instructor=who, difficulty=level)
        for t, who, level in COURSES
    )
    for title, category in DOCUMENTS:
        document = Document(title=title, category=category)
        text = f"{title}\n\nA sample document for the djinsight demo.\n"
        document.file.save(f"{slugify(title)}.txt", ContentFile(text.encode()), save=True)
    _create_blog_pages()


def _create_blog_pages() -> None:
    from blog.models import BlogPage
    from wagtail.models import Page, Site

    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    parent = site.root_page if site else Page.objects.filter(depth=2).first()
    for title, intro in BLOG_PAGES:
        page = BlogPage(
            title=title,
            slug=slugify(title),
            introduction=intro,
            body=f"<p>{intro}</p><p>{PARAGRAPHS[1]}</p><p>{PARAGRAPHS[2]}</p>",
        )
        parent.add_child(instance=page)
        page.save_revision().publish()


def ensure_admin() -> tuple[str, str]:
    """The demo's superuser; its password is reset to the printed one on every run."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": "admin@example.com"}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(ADMIN_PASSWORD)
    user.save()
    return ADMIN_USERNAME, ADMIN_PASSWORD


def tracked_objects() -> list:
    """Every object the demo tracks, in a stable order."""
    from blog.models import Article, BlogPage
    from courses.models import Course, Document
    from shop.models import Category, Product

    objects: list = []
    for model in (Article, Product, Course, Document, Category):
        objects += list(model.objects.order_by("pk"))
    objects += list(BlogPage.objects.live().order_by("pk"))
    return objects
