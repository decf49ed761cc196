"""One real flow through a client generated from the served OpenAPI description
(openapi-python-client): a hospital's token, an array of intake events, an inspector's login,
the case those events make. Fails when the description does not let a generated client do
what the contract allows. Usage: client-flow.py BASE_URL CLIENT_DIR CLIENT_ID CLIENT_SECRET"""
import sys
import uuid
from datetime import datetime, timedelta, timezone

base, client_dir, client_id, client_secret = sys.argv[1:5]
sys.path.insert(0, client_dir)

from shouzhen_api_client import AuthenticatedClient, Client  # noqa: E402
from shouzhen_api_client.api.auth import login, token  # noqa: E402
from shouzhen_api_client.api.cases import list_  # noqa: E402
from shouzhen_api_client.api.intake import post_events  # noqa: E402
from shouzhen_api_client.models import (  # noqa: E402
    CasePage, IngestReport, LoginRequest, RawEvent, RawPatient, TokenForm, TokenResponse)
from shouzhen_api_client.models.list_rule import ListRule  # noqa: E402
from shouzhen_api_client.models.token_form_grant_type import TokenFormGrantType  # noqa: E402

anonymous = Client(base_url=base, raise_on_unexpected_status=True)
issued = token.sync(client=anonymous, body=TokenForm(
    grant_type=TokenFormGrantType.CLIENT_CREDENTIALS, client_id=client_id,
    client_secret=client_secret))
assert isinstance(issued, TokenResponse), issued
hospital = AuthenticatedClient(base_url=base, token=issued.access_token,
                               raise_on_unexpected_status=True)

# An ambulance patient handed over after 20 minutes: a handover.delay case.
run = uuid.uuid4().hex[:12]
arrived = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0) - timedelta(hours=1)
patient = RawPatient(ref=f"client-{run}")
events = [
    RawEvent(event_id=f"client-{run}-1", type_="arrival", occurred_at=arrived.isoformat(),
             patient=patient, acuity="urgent", arrived_by="ambulance"),
    RawEvent(event_id=f"client-{run}-2", type_="handover",
             occurred_at=(arrived + timedelta(minutes=20)).isoformat(), patient=patient),
]
report = post_events.sync(client=hospital, body=events)
assert isinstance(report, IngestReport), report
assert (report.accepted, report.duplicates, len(report.rejected)) == (2, 0, 0), report.to_dict()
again = post_events.sync(client=hospital, body=events[0])
assert isinstance(again, IngestReport) and again.duplicates == 1, again

session = login.sync(client=anonymous, body=LoginRequest(
    email="supervisor@shouzhen.demo", password="shouzhen-demo"))
assert isinstance(session, TokenResponse), session
inspector = AuthenticatedClient(base_url=base, token=session.access_token,
                                raise_on_unexpected_status=True)
page = list_.sync(client=inspector, rule=ListRule.HANDOVER_DELAY, limit=200)
assert isinstance(page, CasePage), page
mine = [c for c in page.items if f"client-{run}-1" in c.summary]
assert len(mine) == 1, [c.summary for c in page.items][:5]
assert mine[0].status == "open" and mine[0].rule == "handover.delay", mine[0].to_dict()
print(f"generated client: token, {report.accepted} events posted as an array, login, "
      f"case {mine[0].id} ({mine[0].rule}) listed")
