"""Run apply on a saved plan in a separate process (the parent kills it mid-apply)."""

import sys

from cisync_lib.cmdb import CmdbConfig, RunStateStore, apply, load_plan
from cisync_lib.servicenow import BasicAuth, ServiceNowConnection


def main(url, ca, user, password, plan_path, state_path, sessions="1"):
    auth = BasicAuth(username=user, password=password)
    conn = ServiceNowConnection(url, auth=auth, verify=ca, sessions=int(sessions))
    apply(
        load_plan(plan_path), conn, CmdbConfig(batch_size=20), run_state=RunStateStore(state_path)
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
