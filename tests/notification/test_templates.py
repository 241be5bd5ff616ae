"""Template rendering: both locales, escaping, strict params, and the catalogue every service relies on."""

from __future__ import annotations

import pytest

from services.notification.rendering import LOCALES, TemplateRenderError, Templates, UnknownTemplate, http_url

LINK_PARAMS = {
    "full_name": "Siti Nurhaliza",
    "link": "https://prakerja.example/konfirmasi-email?token=AbC-123_xyz",
    "token": "AbC-123_xyz",
    "valid_hours": 24,
}

# The templates and params other services were told they can use.
EXPECTED = {
    "account_confirmation": (["email"], LINK_PARAMS),
    "password_reset": (["email"], {**LINK_PARAMS, "valid_hours": 1}),
    "welcome": (["inbox"], {"full_name": "Budi Santoso"}),
    "phone_otp": (["sms"], {"code": "482913", "valid_minutes": 5}),
    "assessment_completed": (["email", "inbox"], {"full_name": "Budi Santoso"}),
    "nik_claim_opened": (["email", "inbox"], {"full_name": "Budi Santoso"}),
    "nik_claim_decided": (["email", "inbox"], {"full_name": "Budi Santoso", "outcome": "approved"}),
}


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates()


def test_every_expected_template_renders_on_its_channels_in_both_locales(templates):
    for name, (channels, params) in EXPECTED.items():
        for channel in channels:
            assert channel in templates.channels(name), (name, channel)
            for locale in LOCALES:
                rendered = templates.render(name, channel, locale, params)
                assert rendered.text.strip(), (name, channel, locale)
                assert "{{" not in rendered.text and "{%" not in rendered.text


def test_each_template_has_the_same_files_in_both_locales(templates):
    for name in templates.names():
        assert templates.kinds(name, "id") == templates.kinds(name, "en"), name


def test_confirmation_email_in_indonesian_shows_link_and_token(templates):
    r = templates.render("account_confirmation", "email", "id", LINK_PARAMS)
    assert r.subject == "Konfirmasi alamat e-mail akun Kartu Prakerja Anda"
    assert "Halo Siti Nurhaliza," in r.text
    assert LINK_PARAMS["link"] in r.text
    assert "AbC-123_xyz" in r.text
    assert "24 jam" in r.text
    assert f'href="{LINK_PARAMS["link"]}"' in r.html
    assert '<html lang="id">' in r.html
    assert "berlaku selama 24 jam" in r.html


def test_confirmation_email_in_english(templates):
    r = templates.render("account_confirmation", "email", "en", LINK_PARAMS)
    assert r.subject == "Confirm the e-mail address of your Kartu Prakerja account"
    assert "Hello Siti Nurhaliza," in r.text
    assert "valid for 24 hours" in r.text
    assert LINK_PARAMS["token"] in r.html
    assert '<html lang="en">' in r.html


def test_html_part_escapes_params_and_text_part_keeps_them(templates):
    params = {**LINK_PARAMS, "full_name": '<script>alert("x")</script> & Co'}
    r = templates.render("account_confirmation", "email", "id", params)
    assert "<script>" not in r.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in r.html
    assert '<script>alert("x")</script> & Co' in r.text


def test_link_with_a_dangerous_scheme_is_not_clickable(templates):
    params = {**LINK_PARAMS, "link": "javascript:alert(1)"}
    r = templates.render("password_reset", "email", "id", params)
    assert 'href="javascript:' not in r.html
    assert 'href="#"' in r.html
    assert http_url("https://a.example/x") == "https://a.example/x"
    assert http_url("data:text/html,hi") == "#"


def test_subject_is_one_line_even_with_a_newline_in_a_param(templates):
    r = templates.render("nik_claim_decided", "email", "id", {"full_name": "A", "outcome": "approved"})
    assert "\n" not in (r.subject or "")
    assert r.subject == "Klaim NIK Anda disetujui"


def test_nik_claim_outcomes(templates):
    rejected = templates.render("nik_claim_decided", "inbox", "en", {"full_name": "A", "outcome": "rejected"})
    assert rejected.subject == "Your NIK claim was not approved"
    other = templates.render("nik_claim_decided", "inbox", "id", {"full_name": "A", "outcome": "ditunda"})
    assert "Hasil: ditunda" in other.text


def test_otp_sms_fits_one_plain_sms_in_both_locales(templates):
    for locale in LOCALES:
        r = templates.render("phone_otp", "sms", locale, {"code": "482913", "valid_minutes": 5})
        assert "482913" in r.text and "5" in r.text
        assert r.subject is None and r.html is None
        assert len(r.text) <= 160 and r.text.isascii(), r.text


def test_inbox_variant_is_title_and_text(templates):
    r = templates.render("welcome", "inbox", "id", {"full_name": "Budi Santoso"})
    assert r.subject == "Selamat datang di Kartu Prakerja"
    assert r.text.startswith("Halo Budi Santoso, akun Anda sudah aktif.")
    assert r.html is None
    assert templates.render("welcome", "inbox", "en", {"full_name": "B"}).subject == "Welcome to Kartu Prakerja"


def test_unknown_template_and_missing_channel(templates):
    with pytest.raises(UnknownTemplate, match="unknown template"):
        templates.render("no_such_template", "email", "id", {})
    with pytest.raises(UnknownTemplate, match="no sms variant"):
        templates.check("account_confirmation", "sms")
    with pytest.raises(UnknownTemplate):
        templates.check("../id/_layout", "email")
    with pytest.raises(UnknownTemplate):
        templates.check("_layout", "email")


def test_a_missing_param_fails_instead_of_rendering_blank(templates):
    params = dict(LINK_PARAMS)
    del params["token"]
    with pytest.raises(TemplateRenderError, match="'token' is undefined"):
        templates.render("account_confirmation", "email", "en", params)


def test_nik_claim_outcomes_for_the_holder(templates):
    kept = templates.render("nik_claim_decided", "email", "id", {"full_name": "A", "outcome": "kept"})
    assert kept.subject == "NIK tetap terhubung dengan akun Anda" and "tetap terhubung" in kept.text
    revoked = templates.render("nik_claim_decided", "email", "en", {"full_name": "A", "outcome": "revoked"})
    assert revoked.subject == "The NIK verification on your account was revoked"
    assert "was revoked" in revoked.text and "was revoked" in (revoked.html or "")


SELECTED = {
    "batch_number": 12,
    "training_balance": 3500000,
    "incentive_amount": 600000,
    "incentive_months": 4,
    "incentive_total": 2400000,
    "survey_incentive_amount": 50000,
    "survey_incentive_count": 3,
}


def test_selection_passed_in_every_channel_and_language(templates):
    email = templates.render("selection_passed", "email", "id", SELECTED)
    assert "Gelombang 12" in email.subject and "Rp3.500.000" in email.text and "Rp3.500.000" in (email.html or "")
    sms = templates.render("selection_passed", "sms", "en", SELECTED)
    assert "Rp3,500,000" in sms.text and len(sms.text) <= 320
    assert "30 hari" in templates.render("selection_passed", "inbox", "id", SELECTED).text


def test_selection_not_passed_lists_the_reasons(templates):
    reasons = [
        {"code": "age_out_of_range", "id": "Usia Anda di luar 18-64 tahun.", "en": "Your age is outside 18-64."},
        {"code": "kk_quota_reached", "id": "Kuota KK <penuh>.", "en": "Family card quota reached."},
    ]
    params = {"batch_number": 12, "reason_codes": ["age_out_of_range", "kk_quota_reached"], "reasons": reasons}
    mail = templates.render("selection_not_passed", "email", "id", params)
    assert "Tidak Lolos" in mail.text and "Usia Anda di luar 18-64 tahun." in mail.text
    assert "&lt;penuh&gt;" in (mail.html or "")
    assert "Your age is outside 18-64." in templates.render("selection_not_passed", "inbox", "en", params).text
