"""A rider's whole journey through MovR's JSON API, with nothing but an HTTP client.

Usage: python api_walkthrough.py http://localhost:8000
"""

import sys
import uuid

import httpx

base = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000"
api = httpx.Client(base_url=f"{base}/api/v1", timeout=10)
username = f"walker-{uuid.uuid4().hex[:8]}"
password = "a long enough password"  # noqa: S105 -- an example account

# 1. Register in a city this region serves, and get a bearer token.
city = next(c["id"] for c in api.get("/cities").json()["items"] if c["served_here"])
api.post(
    "/users",
    json={
        "city": city,
        "first_name": "Walker",
        "last_name": "Example",
        "email": f"{username}@example.com",
        "username": username,
        "password": password,
    },
).raise_for_status()
token = api.post("/auth/token", json={"username": username, "password": password}).json()["token"]
api.headers["Authorization"] = f"Bearer {token}"

# 2. List vehicles in that city and start a ride on an available one (safe to retry: the
#    Idempotency-Key makes a repeat return the first answer).
vehicles = api.get("/vehicles", params={"city": city}).json()["items"]
vehicle = next(v for v in vehicles if v["status"] == "available")
ride = api.post(
    "/rides", json={"vehicle_id": vehicle["id"]}, headers={"Idempotency-Key": str(uuid.uuid4())}
).json()
print(f"riding the {vehicle['color']} {vehicle['brand']} {vehicle['type']}")

# 3. End it somewhere else, then read the history.
ended = api.post(f"/rides/{ride['id']}/end", json={"location": "Town Hall"}).json()
print(f"ended at {ended['end_location']}, cost ${ended['revenue']}")
history = api.get("/rides").json()["items"]
print(f"{len(history)} ride(s) in the history")

# 4. Delete the account: personal data erased, token revoked.
api.delete("/me").raise_for_status()
print("account deleted:", api.get("/me").status_code == 401)
