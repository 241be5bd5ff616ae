"""profile's request and response models (the OpenAPI that frontends and ops read)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.errors import FieldMessage
from shared.i18n import Text

Education = Literal["SD", "SMP", "SMA/SMK", "D1", "D2", "D3", "D4", "S1", "S2", "S3"]
EmploymentStatus = Literal["working", "not_working", "laid_off", "furloughed", "self_employed"]
DocumentKind = Literal["ktp", "selfie"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IdentityUpdate(_In):
    """NIK and birth date as on the KTP; the KK number (family card) is optional."""

    nik: str = Field(max_length=40, examples=["3276011705910001"], description="16 digits (spaces allowed)")
    kk: str | None = Field(default=None, max_length=40, examples=["3276012503060001"])
    birth_date: date = Field(examples=["1991-05-17"])

    @field_validator("kk")
    @classmethod
    def _empty_kk(cls, value: str | None) -> str | None:
        return value or None


class Identity(BaseModel):
    """The verified identity, masked."""

    nik_masked: str | None = Field(examples=["3276********0001"])
    kk_masked: str | None = Field(examples=["3276********0001"])
    birth_date: date | None
    sex: Literal["L", "P"] | None
    verified_at: datetime | None
    revoked_at: datetime | None = None


def _digits(value: str, length_min: int, length_max: int, code: str, text: Text) -> str:
    if not (value.isdigit() and value.isascii() and length_min <= len(value) <= length_max):
        raise FieldMessage(code, text)
    return value


class AddressIn(_In):
    """An address as on the KTP: Kemendagri region codes (dots optional), street, RT/RW and postal code."""

    province_code: str = Field(max_length=20, examples=["32"])
    regency_code: str = Field(max_length=20, examples=["32.76"])
    district_code: str = Field(max_length=20, examples=["32.76.01"])
    village_code: str = Field(max_length=20, examples=["32.76.01.1006"])
    street: str = Field(min_length=3, max_length=200, examples=["JL. RAYA BOGOR NO. 10"])
    rt: str = Field(max_length=3, examples=["002"], description="RT, 1-3 digits, stored as 3")
    rw: str = Field(max_length=3, examples=["003"], description="RW, 1-3 digits, stored as 3")
    postal_code: str = Field(max_length=5, examples=["16431"])

    @field_validator("rt", "rw")
    @classmethod
    def _rt_rw(cls, value: str) -> str:
        value = _digits(
            value,
            1,
            3,
            "rt_rw_invalid",
            Text("RT dan RW diisi 1 sampai 3 digit angka, misalnya 002.", "RT and RW take 1 to 3 digits, e.g. 002."),
        ).zfill(3)
        if value == "000":
            raise FieldMessage("rt_rw_invalid", Text("RT dan RW tidak boleh 000.", "RT and RW cannot be 000."))
        return value

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, value: str) -> str:
        return _digits(
            value, 5, 5, "postal_code_invalid", Text("Kode pos harus 5 digit angka.", "The postal code is 5 digits.")
        )


class Address(BaseModel):
    province_code: str
    regency_code: str
    district_code: str
    village_code: str
    street: str
    rt: str
    rw: str
    postal_code: str
    region_path: str | None = Field(default=None, examples=["Depok, Pancoran Mas, Kota Depok, Jawa Barat"])


class PersonalUpdate(_In):
    """Residential address (as on the KTP), domicile, education, employment status and whether in school."""

    residential_address: AddressIn
    domicile_same_as_ktp: bool = False
    domicile_address: AddressIn | None = None
    education: Education
    employment_status: EmploymentStatus = Field(
        description="working, not_working, laid_off (PHK), furloughed (dirumahkan), self_employed (usaha mikro)"
    )
    is_student: bool = Field(description="Currently in school or university")

    @model_validator(mode="after")
    def _domicile(self) -> PersonalUpdate:
        if self.domicile_same_as_ktp and self.domicile_address is not None:
            raise FieldMessage(
                "domicile_conflict",
                Text(
                    "Isi alamat domisili atau pilih 'sama dengan KTP', tidak keduanya.",
                    "Give a domicile address or choose 'same as KTP', not both.",
                ),
            )
        if not self.domicile_same_as_ktp and self.domicile_address is None:
            raise FieldMessage(
                "domicile_required",
                Text(
                    "Isi alamat domisili, atau pilih 'sama dengan KTP'.",
                    "Give the domicile address, or choose 'same as KTP'.",
                ),
            )
        return self


class Personal(BaseModel):
    residential_address: Address | None
    domicile_same_as_ktp: bool | None
    domicile_address: Address | None
    education: Education | None
    employment_status: EmploymentStatus | None
    is_student: bool | None
    updated_at: datetime | None


class DocumentInfo(BaseModel):
    kind: DocumentKind
    content_type: str
    width: int
    height: int
    size_bytes: int
    uploaded_at: datetime


class PhoneRequest(_In):
    phone: str = Field(max_length=30, examples=["0812 3456 7890"], description="Indonesian mobile number")


class OtpSent(BaseModel):
    phone_masked: str = Field(examples=["+62812******90"])
    expires_at: datetime
    resend_after_s: int


class OtpVerify(_In):
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$", examples=["123456"])


class Phone(BaseModel):
    phone_masked: str | None
    verified_at: datetime | None


class DeclarationStatement(BaseModel):
    id: str
    text: str


class DeclarationText(BaseModel):
    """The statements the applicant affirms, in the requested language (and both, for the record)."""

    version: str
    locale: Literal["id", "en"]
    statements: list[DeclarationStatement]
    statements_id: list[DeclarationStatement]
    statements_en: list[DeclarationStatement]


class DeclarationAccept(_In):
    """Each statement must be affirmed with `true`; `version` is the text version the applicant read."""

    version: str = Field(max_length=20, examples=["2026-11-26"])
    data_true_and_own: bool
    not_in_excluded_group: bool
    not_receiving_other_aid: bool
    not_in_school: bool
    accept_terms: bool

    @field_validator(
        "data_true_and_own", "not_in_excluded_group", "not_receiving_other_aid", "not_in_school", "accept_terms"
    )
    @classmethod
    def _affirmed(cls, value: bool) -> bool:
        if value is not True:
            raise FieldMessage(
                "statement_required",
                Text(
                    "Pernyataan ini wajib disetujui untuk mendaftar.",
                    "This statement must be affirmed to register.",
                ),
            )
        return value


class DeclarationInfo(BaseModel):
    version: str | None
    accepted_at: datetime | None


class Step(BaseModel):
    step: Literal["identity", "personal", "ktp_photo", "selfie", "phone", "declaration"]
    done: bool
    done_at: datetime | None


class ProfileStatus(BaseModel):
    """Each step of the profile, for the dashboard; `complete` once all are done."""

    account_id: uuid.UUID
    steps: list[Step]
    complete: bool
    completed_at: datetime | None


class ProfileOut(BaseModel):
    """The profile, with NIK, KK and phone masked."""

    account_id: uuid.UUID
    full_name: str | None
    identity: Identity
    personal: Personal
    documents: list[DocumentInfo]
    phone: Phone
    declaration: DeclarationInfo
    completed_at: datetime | None


class VerificationAttemptOut(BaseModel):
    id: int
    purpose: str
    outcome: str
    registry: str
    created_at: datetime


class VerificationAttempts(BaseModel):
    items: list[VerificationAttemptOut]


class ClaimCreate(_In):
    """The NIK (held by another account) and birth date of the claimant, as on the KTP."""

    nik: str = Field(max_length=40, examples=["3276011705910001"])
    birth_date: date


class ClaimSide(BaseModel):
    account_id: uuid.UUID
    full_name: str | None
    identity_verified_at: datetime | None
    documents: list[DocumentInfo]
    document_urls: dict[str, str] = Field(description="Ops URLs of the images (reads are audit-logged)")
    verification_attempts: int


class Claim(BaseModel):
    id: uuid.UUID
    status: Literal["open", "claimant", "holder"]
    nik_masked: str
    opened_at: datetime
    decided_at: datetime | None
    decided_by: str | None = None
    decision_note: str | None = None


class ClaimDetail(Claim):
    """Both sides' evidence. The claimant's name and birth date matched the registry when the claim was filed."""

    claimant: ClaimSide
    holder: ClaimSide


class ClaimPage(BaseModel):
    items: list[Claim]
    total: int


class ClaimDecision(_In):
    outcome: Literal["claimant", "holder"] = Field(description="Who keeps the NIK")
    note: str = Field(min_length=3, max_length=2000, description="Why (kept in the audit log)")
