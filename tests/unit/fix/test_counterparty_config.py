"""The settings counterparties differ on (`execflow fix serve --reset/--validation/...`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from execflow.cli.main import app
from execflow.fix.application import SessionID
from execflow.fix.config import SessionConfig, counterparty_config
from execflow.fix.dictionary import builtin
from execflow.fix.errors import FixValidationError
from execflow.fix.validation import Validator
from tests.unit.fix.helpers import wire

SID = SessionID("FIX.4.4", "EXECFLOW", "CLIENT")
HB = "8=FIX.4.4|35=0|49=CLIENT|56=EXECFLOW|34=2|52=20260101-00:00:00.000"


def _check(config: SessionConfig, text: str) -> int | None:
    """SessionRejectReason of the message under this configuration, None if accepted."""
    from execflow.fix import codec

    dd = builtin("FIX44")
    try:
        Validator(dd, config.validation).validate(codec.parse(wire(text), dd))
    except FixValidationError as exc:
        return int(exc.reason)
    return None


def test_defaults_follow_the_specification() -> None:
    config = counterparty_config(SID)
    assert (config.reset_on_logon, config.reset_on_logout, config.reset_on_disconnect) == (
        False, False, False,
    )  # fmt: skip
    assert config.validate and config.test_request_id == "TEST-{ns}"
    assert _check(config, HB + "|999=x") == 0
    assert _check(config, HB + "|5000=x") is None  # user-defined tags allowed by default
    assert _check(config, HB + "|58=x") == 2


def test_reset_policies_and_user_defined_fields() -> None:
    config = counterparty_config(
        SID, reset=("logon", "disconnect"), user_defined_fields=False, test_request_id="T{n}"
    )
    assert (config.reset_on_logon, config.reset_on_logout, config.reset_on_disconnect) == (
        True, False, True,
    )  # fmt: skip
    assert _check(config, HB + "|5000=x") == 0
    assert config.test_request_id.format(n=3, ns=0, time="") == "T3"


def test_lenient_accepts_unknown_fields_and_order_but_checks_values() -> None:
    config = counterparty_config(SID, validation="lenient")
    assert _check(config, HB + "|999=x|58=x") is None
    assert _check(config, HB + "|43=Q") == 6  # PossDupFlag (Boolean) must still be Y or N


def test_off_validates_nothing_beyond_the_session_layer() -> None:
    config = counterparty_config(SID, validation="off")
    assert not config.validate


@pytest.mark.parametrize(
    "kw,fragment",
    [
        ({"reset": ("sometimes",)}, "reset sometimes"),
        ({"validation": "paranoid"}, "validation 'paranoid'"),
        ({"test_request_id": "T{x}"}, "test_request_id"),
    ],
)
def test_bad_settings_are_refused_with_a_sentence(kw: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        counterparty_config(SID, **kw)  # type: ignore[arg-type]


def test_fix_serve_refuses_a_bad_setting_before_starting(tmp_path: object) -> None:
    result = CliRunner().invoke(
        app,
        ["fix", "serve", "--client", "C=ACC1", "--reset", "sometimes", "--data-dir", str(tmp_path)],
    )
    assert result.exit_code != 0
    assert "reset sometimes" in result.output


def test_third_party_addressing_profile() -> None:
    config = counterparty_config(SID, on_behalf_of=("JCD", "WT"), deliver_to=("DLSI",))
    assert config.on_behalf_of_comp_ids == frozenset({"JCD", "WT"})
    assert config.deliver_to_comp_ids == frozenset({"DLSI"})
    default = counterparty_config(SID)
    assert default.on_behalf_of_comp_ids is None and default.deliver_to_comp_ids is None


def test_fix_serve_wants_tls_cert_and_key_together(tmp_path: object) -> None:
    result = CliRunner().invoke(
        app,
        ["fix", "serve", "--client", "C=ACC1", "--tls-cert", "cert.pem", "--data-dir",
         str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "--tls-cert and --tls-key go together" in result.output
