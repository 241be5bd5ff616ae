"""The baseline: a bare FastAPI endpoint served with the same uvicorn settings as identity."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/bare")
async def bare() -> dict[str, object]:
    return {
        "id": "00000000-0000-0000-0000-000000000000",
        "full_name": "Siti Nurhaliza",
        "email": "s@example.com",
        "status": "active",
        "roles": ["applicant"],
        "locale": "id",
    }
