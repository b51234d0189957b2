"""The specification's spelling ``djInsight``: imports, tag library and ``migrate``."""

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.template import Context, Template

from tests.conftest import ROOT, child_env


def test_capitalised_spellings_are_the_same_modules():
    import djInsight.models
    import djInsight.urls

    import djinsight.models
    import djinsight.urls

    assert djInsight.models is djinsight.models
    assert djInsight.urls is djinsight.urls
    assert djInsight.models.PageViewStatisticsMixin is djinsight.models.PageViewStatisticsMixin
    assert djinsight.urls.__spec__.name == "djinsight.urls"


def test_both_tag_library_spellings_load():
    for library in ("djInsight_tags", "djinsight_tags"):
        assert (
            Template("{% load " + library + " %}{% page_view_tracker %}").render(Context({})) == ""
        )


@pytest.mark.django_db
def test_migrate_accepts_the_specification_label_spelling():
    from io import StringIO

    out = StringIO()
    call_command("migrate", "djInsight", stdout=out)
    call_command("migrate", "djinsight", stdout=out)
    assert "No migrations to apply" in out.getvalue()


def test_migrate_without_another_override_is_djangos_own():
    from django.core.management.commands.migrate import Command as DjangoMigrate

    from djinsight.management.commands.migrate import Command

    assert Command.__mro__[1] is DjangoMigrate


def migrate_beside_other_app(position: str, label: str) -> subprocess.CompletedProcess:
    env = child_env()
    env["DJANGO_SETTINGS_MODULE"] = "tests.othermigrate.settings"
    env["OTHER_MIGRATE_POSITION"] = position
    command = [sys.executable, "-m", "django", "migrate", label, "--plan"]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.django_db
@pytest.mark.parametrize("label", ["djInsight", "djinsight"])
def test_listed_first_djinsight_keeps_the_other_apps_migrate(label):
    result = migrate_beside_other_app("after", label)
    assert result.returncode == 0, result.stderr
    assert "othermigrate's migrate ran" in result.stdout
    assert "Planned operations" in result.stdout


@pytest.mark.django_db
def test_listed_after_another_override_its_migrate_runs_and_our_label_still_works():
    result = migrate_beside_other_app("before", "djinsight")
    assert result.returncode == 0, result.stderr
    assert "othermigrate's migrate ran" in result.stdout
    # the other app's command wins, so the capitalised label is unknown there (documented)
    refused = migrate_beside_other_app("before", "djInsight")
    assert refused.returncode != 0
    assert "No installed app with label 'djInsight'" in refused.stderr
