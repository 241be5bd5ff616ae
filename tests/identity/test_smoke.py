async def test_register(client):
    r = await client.post(
        "/v1/accounts",
        json={"full_name": "Siti Nurhaliza", "email": "s@example.com", "password": "Pelatihan-Kerja-2026"},
    )
    assert r.status_code == 201, r.text
