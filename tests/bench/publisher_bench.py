#!/usr/bin/env python3
"""ecs-srv against moto on loopback: handler time cold and warm, API calls per event, Lambda init.

Usage: publisher_bench.py --ecs-srv PATH --out results.json   (run with the venv's python: boto3)

Handler time is measured on the real binary, `ecs-srv replay`, by difference, because process
start, SDK set-up and the start-up GetHostedZone are in every run:
- baseline: one event from a cluster that is not configured (decided without any API call);
- cold: one RUNNING event for a task never seen, in a fresh process;
- warm: W RUNNING events for W other tasks, one invocation each, in one process.
cold handler = cold - baseline; warm handler = (warm - cold) / (W - 1). Each publish run is
followed by an untimed run of draining events for the same tasks, so the zone stays small (moto
cannot page past 300 weighted record sets).

Lambda init is process start to the first `GET /2018-06-01/runtime/invocation/next` on a stub of
the runtime API.
"""

import argparse
import copy
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGION = "us-east-1"
ACCOUNT = "123456789012"
HOSTS = 4
BASELINE_RUNS = 5
COLD_RUNS = 7
WARM_ROUNDS = 3
WARM_EVENTS = 20
INIT_RUNS = 20
# Route 53 requests are paced (ROUTE53_WRITE_RATE, default 5/s, to spare the account's quota).
# Timed runs use the highest rate allowed so that the figures show the handler's own time; one
# extra warm run at the default shows what the pacing costs.
UNPACED = {"ROUTE53_WRITE_RATE": "100"}


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def start_moto(work):
    child = procs.start([sys.executable, os.path.join(ROOT, "tests/support/moto_server.py")],
                        log_path=os.path.join(work, "moto.log"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = child.stdout.readline().decode().strip()
    if not line.startswith("READY "):
        raise RuntimeError(f"moto did not start: {line!r}; see {work}/moto.log")
    return child, line.split(" ", 1)[1]


def seed(endpoint, task_count):
    import boto3  # the venv's, installed with moto

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    ec2 = session.client("ec2", endpoint_url=endpoint)
    ecs = session.client("ecs", endpoint_url=endpoint)
    route53 = session.client("route53", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.0.0/16")["Subnet"]["SubnetId"]
    cluster = ecs.create_cluster(clusterName="bench")["cluster"]["clusterArn"]
    for index in range(HOSTS):
        instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet,
                                     PrivateIpAddress=f"10.40.0.{10 + index}")["Instances"][0]["InstanceId"]
        document = json.dumps({"instanceId": instance, "region": REGION, "accountId": ACCOUNT})
        ecs.register_container_instance(cluster="bench", instanceIdentityDocument=document)
    definition = ecs.register_task_definition(
        family="web", networkMode="bridge",
        containerDefinitions=[{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 64,
                               "essential": True, "portMappings": [{"containerPort": 80, "protocol": "tcp"}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    tasks = []
    while len(tasks) < task_count:
        started = ecs.run_task(cluster="bench", taskDefinition=definition, group="service:web",
                               count=min(10, task_count - len(tasks)))
        if not started["tasks"]:
            raise RuntimeError(f"moto placed no task: {started.get('failures')}")
        tasks += [(t["taskArn"], t["containerInstanceArn"]) for t in started["tasks"]]
    zone = route53.create_hosted_zone(
        Name="bench.internal", CallerReference=f"bench-{vpc}",
        VPC={"VPCRegion": REGION, "VPCId": vpc}, HostedZoneConfig={"PrivateZone": True},
    )["HostedZone"]["Id"].split("/")[-1]
    return {"cluster_arn": cluster, "definition": definition, "tasks": tasks, "zone": zone}


def event_for(template, world, task, host_port, serial):
    task_arn, instance_arn = task
    event = copy.deepcopy(template)
    event["id"] = f"bench-{serial}"
    event["resources"] = [task_arn]
    detail = event["detail"]
    detail.update(taskArn=task_arn, clusterArn=world["cluster_arn"], taskDefinitionArn=world["definition"],
                  containerInstanceArn=instance_arn)
    for container in detail["containers"]:
        container["taskArn"] = task_arn
        for binding in container.get("networkBindings", []):
            binding["hostPort"] = host_port
    return event


class Replayer:
    def __init__(self, binary, endpoint, zone, work):
        self.binary = binary
        self.work = work
        self.serial = 0
        self.env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
                        AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true",
                        HOSTED_ZONE_ID=zone, RUST_LOG="warn")

    def files(self, events):
        paths = []
        for event in events:
            self.serial += 1
            path = os.path.join(self.work, f"event-{self.serial}.json")
            with open(path, "w") as out:
                json.dump(event, out)
            paths.append(path)
        return paths

    def run(self, events, extra_env=None):
        """Wall seconds of one `ecs-srv replay` over one file per event, and its summary."""
        paths = self.files(events)
        env = dict(self.env, **(extra_env or {}))
        started = time.perf_counter()
        done = subprocess.run([self.binary, "replay", *paths], capture_output=True, text=True, env=env, timeout=120)
        elapsed = time.perf_counter() - started
        try:
            summary = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise RuntimeError(f"replay printed no summary: {done.stderr[-600:]}")
        if summary["failed_events"]:
            raise RuntimeError(f"replay had failed events: {json.dumps(summary)[:800]}")
        return elapsed, summary


def calls_by_kind(api_calls):
    kinds = {"ECS": 0, "EC2": 0, "Route 53": 0}
    for operation, count in api_calls.items():
        service = operation.split(".", 1)[0]
        kinds["Route 53" if service.lower() == "route53" else service.upper()] += count
    return kinds


class RuntimeStub:
    """GET /2018-06-01/runtime/invocation/next records its arrival and then holds the request."""

    def __init__(self):
        self.arrived = threading.Event()
        self.arrival = None
        self.release = threading.Event()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next") and not stub.arrived.is_set():
                    stub.arrival = time.perf_counter()
                    stub.arrived.set()
                stub.release.wait(10)
                self.send_response(500)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        self.arrived.clear()
        self.release.clear()
        self.arrival = None

    def close(self):
        self.release.set()
        self.server.shutdown()


def lambda_init(binary, env, runs):
    stub = RuntimeStub()
    lambda_env = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{stub.port}", AWS_LAMBDA_FUNCTION_NAME="ecs-srv",
                      AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
                      AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/ecs-srv", AWS_LAMBDA_LOG_STREAM_NAME="bench")
    times = []
    try:
        for _ in range(runs):
            stub.reset()
            started = time.perf_counter()
            child = procs.start([binary], env=lambda_env)
            if not stub.arrived.wait(20):
                procs.stop(child)
                raise RuntimeError("ecs-srv never polled the runtime API stub")
            times.append(stub.arrival - started)
            procs.stop(child, grace=2.0)
            stub.release.set()
    finally:
        stub.close()
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ecs-srv", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="ecs-srv-pubbench-")
    _moto, endpoint = start_moto(work)
    task_count = COLD_RUNS + (WARM_ROUNDS + 1) * WARM_EVENTS
    log(f"seeding moto at {endpoint}: {HOSTS} hosts, {task_count} tasks")
    world = seed(endpoint, task_count)
    with open(os.path.join(ROOT, "events/bridge-running.json")) as f:
        running = json.load(f)
    with open(os.path.join(ROOT, "events/bridge-draining.json")) as f:
        draining = json.load(f)
    replayer = Replayer(args.ecs_srv, endpoint, world["zone"], work)
    tasks = list(world["tasks"])
    ports = iter(range(32768, 60000))

    def publish_then_withdraw(count, timed_env=None):
        chosen = [tasks.pop() for _ in range(count)]
        chosen_ports = [next(ports) for _ in chosen]
        elapsed, summary = replayer.run(
            [event_for(running, world, t, p, f"run-{i}") for i, (t, p) in enumerate(zip(chosen, chosen_ports))],
            timed_env)
        replayer.run([event_for(draining, world, t, p, f"drain-{i}") for i, (t, p) in enumerate(zip(chosen, chosen_ports))])
        return elapsed, summary

    # One untimed run first: moto's first answers and the page cache are warmed for everyone.
    replayer.run([event_for(running, world, tasks[0], 1, "x")],
                 {"CLUSTERS": "not-bench"})

    baseline, cold, cold_calls = [], [], []
    for round_number in range(max(BASELINE_RUNS, COLD_RUNS)):
        log(f"publisher: cold run {round_number + 1}")
        if round_number < BASELINE_RUNS:
            elapsed, _ = replayer.run([event_for(running, world, tasks[0], 1, f"base-{round_number}")],
                                      {"CLUSTERS": "not-bench"})
            baseline.append(elapsed)
        if round_number < COLD_RUNS:
            elapsed, summary = publish_then_withdraw(1, UNPACED)
            cold.append(elapsed)
            cold_calls.append(calls_by_kind(summary["invocations"][0]["api_calls"]))
            cold_ops = summary["invocations"][0]["api_calls"]

    warm, warm_first_calls, warm_later_calls = [], [], []
    for round_number in range(WARM_ROUNDS):
        log(f"publisher: warm run {round_number + 1} ({WARM_EVENTS} events in one process)")
        elapsed, summary = publish_then_withdraw(WARM_EVENTS, UNPACED)
        warm.append(elapsed)
        invocations = summary["invocations"]
        warm_first_calls.append(calls_by_kind(invocations[0]["api_calls"]))
        later = [calls_by_kind(i["api_calls"]) for i in invocations[1:]]
        warm_later_calls.append({k: sum(c[k] for c in later) / len(later) for k in later[0]})
        later_ops = {}
        for invocation in invocations[1:]:
            for operation, count in invocation["api_calls"].items():
                later_ops[operation] = later_ops.get(operation, 0) + count / (len(invocations) - 1)

    log(f"publisher: warm run at the default write rate ({WARM_EVENTS} events)")
    paced, _ = publish_then_withdraw(WARM_EVENTS)

    log(f"publisher: Lambda init, {INIT_RUNS} runs")
    init = lambda_init(args.ecs_srv, replayer.env, INIT_RUNS)

    median = statistics.median
    cold_handler = median(cold) - median(baseline)
    warm_handler = (median(warm) - median(cold)) / (WARM_EVENTS - 1)
    with open(args.out, "w") as out:
        json.dump({
            "baseline_s": baseline, "cold_s": cold, "warm_s": warm, "warm_events": WARM_EVENTS,
            "cold_handler_ms": cold_handler * 1e3, "warm_handler_ms": warm_handler * 1e3,
            "paced_s": paced, "paced_handler_ms": (paced - median(cold)) / (WARM_EVENTS - 1) * 1e3,
            "cold_calls": cold_calls[0], "warm_first_calls": warm_first_calls[0],
            "warm_later_calls": {k: median(r[k] for r in warm_later_calls) for k in warm_later_calls[0]},
            "cold_ops": cold_ops, "warm_later_ops": later_ops,
            "withdraw_note": "each publish run is followed by an untimed run of draining events",
            "init_ms": [t * 1e3 for t in init], "init_median_ms": median(init) * 1e3,
            "init_p90_ms": sorted(init)[int(len(init) * 0.9) - 1] * 1e3,
            "hosts": HOSTS, "cold_runs": COLD_RUNS, "baseline_runs": BASELINE_RUNS,
            "warm_rounds": WARM_ROUNDS, "init_runs": INIT_RUNS,
        }, out, indent=1)


if __name__ == "__main__":
    main()
