"""The profile service: NIK/KK (encrypted), personal data, KTP and selfie images, phone OTP, declaration."""
