"""deploy/settings.py: the one reader of the variables `python -m deploy` takes."""

from __future__ import annotations

import io

import pytest

from deploy._cli import EXIT_BAD_INPUT, main
from deploy.settings import DeploySettings, SettingsError


def test_unset_variables_are_the_documented_defaults() -> None:
    settings = DeploySettings.from_env({})
    assert (settings.region, settings.service, settings.console_service) == (
        "us-central1",
        "lightonocr",
        "lightonocr-console",
    )
    assert (settings.min_instances, settings.tag, settings.operators) == (None, None, ())


def test_operator_lists_are_read_as_comma_separated_entries() -> None:
    env = {"LIGHTONOCR_OPERATORS": " a@example.com, @example.org ,,"}
    assert DeploySettings.from_env(env).operators == ("a@example.com", "@example.org")


def test_an_instance_count_in_words_is_one_error_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="LIGHTONOCR_MAX_INSTANCES must be a whole number"):
        DeploySettings.from_env({"LIGHTONOCR_MAX_INSTANCES": "three"})


def test_the_cli_says_a_bad_variable_in_one_line_as_bad_input() -> None:
    out, err = io.StringIO(), io.StringIO()
    env = {"GOOGLE_CLOUD_PROJECT": "p1", "LIGHTONOCR_MIN_INSTANCES": "one"}
    code = main(["apply", "--dry-run", "--tag", "c0ffee0"], env=env, out=out, err=err)
    assert code == EXIT_BAD_INPUT
    assert err.getvalue().strip().startswith("error: LIGHTONOCR_MIN_INSTANCES must be")
    assert out.getvalue() == ""
