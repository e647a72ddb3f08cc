"""The scenario benchmark's Locust side (bench/scenario_vs_peers.py): the same 4-request user flow
as bench/scenario_driver.cpp, on Locust's fastest client (FastHttpUser), without think time."""
from locust import FastHttpUser, constant, task


class Flow(FastHttpUser):
    wait_time = constant(0)

    @task
    def flow(self):
        self.client.post("/login", data="user=bench&password=secret",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.client.get("/api/messages")
        self.client.post("/api/messages", json={"message": "hello"})
        self.client.get("/api/messages?limit=5", name="/api/messages?limit")
