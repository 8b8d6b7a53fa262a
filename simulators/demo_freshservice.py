"""The deterministic demo account: an MSP's Freshservice helpdesk with six client companies.

`build_demo_account(now, seed)` always builds the same account for the same inputs. It holds
seven months of tickets up to `now`, so the previous calendar month is complete in any time
zone, and it is shaped to exercise every number of the client report: a law firm that passes
the 300-ticket filter cap every month, a quiet client with empty months, custom statuses, SLA
targets met and breached, reopened tickets, long conversations, private notes, billable and
non-billable time (one entry over 99 hours), CSAT answers with and without a score, proactive
and maintenance tags, a long-open backlog, spam and deleted tickets, and hostile text.

All people, companies and domains are invented; e-mail domains use the reserved .example TLD.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.freshservice_assets import add_demo_devices
from simulators.freshservice_data import Account, to_utc
from utils.core import clock

# Clients and technicians work on US Eastern time; business-hours weighting uses its
# standard offset so the generator does not depend on the machine's tz database.
LOCAL_OFFSET = timedelta(hours=-5)
HISTORY_MONTHS = 7  # the current month and the six before it

GROUP_IDS = {
    "Service Desk": 21000188390,
    "Infrastructure": 21000188391,
    "Projects": 21000188392,
    "Security": 21000188393,
}

# SLA targets by priority (calendar hours): first response, resolution.
FIRST_RESPONSE_HOURS = {1: 8.0, 2: 4.0, 3: 1.0, 4: 0.5}
RESOLUTION_HOURS = {1: 120.0, 2: 72.0, 3: 24.0, 4: 8.0}
SLA_POLICY_IDS = {1: 21000057781, 2: 21000057782, 3: 21000057783, 4: 21000057784}
AUTO_CLOSE_AFTER = timedelta(hours=72)
RMM_ALERT_SOURCE = 1001  # a custom source, as accounts create them (ids from 1000)

AGENTS = (
    ("Marcus", "Reyes", "Service Desk Lead", ("Service Desk",)),
    ("Priya", "Natarajan", "Senior Systems Engineer", ("Infrastructure", "Security")),
    ("Tom", "Becker", "Service Desk Engineer", ("Service Desk",)),
    ("Aisha", "Okafor", "Service Desk Engineer", ("Service Desk",)),
    ("Daniel", "Kim", "Project Engineer", ("Projects", "Infrastructure")),
    ("Sofia", "Marchetti", "Security Analyst", ("Security",)),
    ("Liam", "O'Connor", "Field Technician", ("Service Desk",)),
    ("Hannah", "Schultz", "Systems Engineer", ("Infrastructure",)),
)

FIRST_NAMES = (
    "Olivia", "James", "Emma", "Noah", "Ava", "William", "Sophia", "Benjamin", "Isabella",
    "Lucas", "Mia", "Henry", "Charlotte", "Alexander", "Amelia", "Ethan", "Harper", "Mateo",
    "Evelyn", "Samuel", "Abigail", "David", "Emily", "Joseph", "Elizabeth", "Carter", "Sofia",
    "Owen", "Avery", "Wyatt", "Ella", "Jack", "Scarlett", "Luke", "Grace", "Jayden", "Chloe",
    "Gabriel", "Victoria", "Isaac", "Riley", "Anthony", "Aria", "Dylan", "Lily", "Leo", "Zoë",
    "Siobhán", "Mikołaj", "Nikos", "Aiko", "Rahul", "Fatima", "Kwame", "Ingrid", "José",
    "Mei", "Tariq", "Renée", "Bogdan",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "O'Brien", "Ångström", "Wójcik", "Papadopoulos", "Tanaka", "Mehta", "Haddad", "Mensah",
    "Lindqvist", "Fernández", "Chen", "Rahman", "Dubois", "Kowalczyk", "MacLeod",
)

REQUESTER_REPLIES = (
    "Thanks - that worked!",
    "Still happening this morning, unfortunately.",
    "I'm out of the office until Thursday, can we pick this up then?",
    "Attached a screenshot of the error.",
    "Yes, you can remote in now.",
    "Tried that, no luck. Same error.",
    "It seems better today, but I'll keep an eye on it.",
    "Any update on this? It's blocking me from working on a client file.",
    "Perfect, thank you so much for the quick help.",
    "My colleague at the next desk has the same problem.",
)
FIRST_REPLIES = (
    "Hi {first}, thanks for letting us know - I'm looking into this now.",
    "Hi {first}, thanks for the report. I'm picking this up and will call you shortly.",
    "Hi {first}, we've received this and a technician is on it.",
    "Hi {first}, thanks - could you send a screenshot of the error while I take a look?",
)
AGENT_REPLIES = (
    "Could you restart the machine and let me know if it still happens?",
    "I've connected remotely and applied a fix. Please test and let me know.",
    "Just checking in - is this still an issue on your side?",
    "We've escalated this to our infrastructure team and will update you by end of day.",
    "This should be sorted now. I'll leave the ticket open for a day in case it comes back.",
    "Can you tell me roughly when it started and whether anything changed around then?",
    "Thanks for confirming - closing this one off. Shout if you need anything else.",
)
PRIVATE_NOTES = (
    "Called user, no answer - left voicemail with the ticket number.",
    "Remote session: cleared Credential Manager and rebuilt the Outlook profile.",
    "Waiting on vendor RMA; chased again today, ETA Friday.",
    "Checked RMM: no alerts on this device in the last 7 days.",
    "User is on a hybrid schedule - only in the office Tue/Thu, plan onsite work accordingly.",
    "Same issue as last month's ticket for this user; root cause was the old docking station firmware.",
    "Escalated to Infrastructure. Do not close until the change is approved by the client's IT contact.",
)
CSAT_COMMENTS = {
    "positive": ("Quick and friendly.", "Sorted in five minutes, thank you!",
                 "Great service as always.", "Really appreciated the follow-up call.",
                 "Explained everything clearly."),
    "neutral": ("Fixed, but it took a while to get a first reply.", "OK.",
                "Solved in the end, but I had to explain the issue twice."),
    "negative": ("Had to chase twice before anyone responded.", "The issue came back the next day.",
                 "Nobody told me the laptop would be wiped <b>first</b> & I lost my \"Downloads\" folder."),
}


@dataclass(frozen=True)
class Topic:
    """A kind of ticket: its category, the subjects people write, and what technicians say about it."""

    key: str
    category: str
    sub_category: str
    ticket_type: str
    subjects: tuple[str, ...]
    detail: str
    group: str
    priorities: tuple[int, int, int, int] = (3, 5, 2, 0)  # weights of priorities 1..4
    minutes: tuple[int, int] = (10, 45)  # time spent per entry
    replies: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    tag_sets: tuple[tuple[str, ...], ...] = ((),)
    source: int | None = None  # fixed source, else the usual channel mix
    raised_by_msp: bool = False  # the MSP opens these itself (requester is an agent or the RMM)
    proactive_case: bool = False
    item_category: str | None = None
    resolution_scale: float = 1.0


TOPICS: dict[str, Topic] = {topic.key: topic for topic in (
    Topic("password", "Access", "Password Reset", "Service Request",
          ("Password reset for {first}", "Locked out of Windows after password change",
           "Account locked - can't log in to laptop", "Forgot password for the VPN portal",
           "Password expired while travelling"),
          "I can't sign in and it says my account is locked.", "Service Desk", (3, 6, 1, 0), (5, 20),
          ("I've reset your password and texted the temporary one to your mobile. You'll be asked to change it at first sign-in.",
           "Your account is unlocked now. The lockouts came from an old password saved in your phone's mail app - please update it there too."),
          ("AD shows 14 bad-password attempts from the user's iPhone (ActiveSync). Cleared lockout, asked user to update the phone.",
           "Verified identity by calling back on the mobile number in the HR record before resetting.")),
    Topic("mfa", "Access", "MFA", "Service Request",
          ("MFA prompts not arriving on new phone", "New phone - need Microsoft Authenticator moved over",
           "Getting repeated MFA prompts I didn't trigger"),
          "The Authenticator app isn't getting the sign-in requests.", "Service Desk", (1, 6, 3, 0), (10, 30),
          ("I've cleared your old MFA methods - please sign in at aka.ms/mfasetup to register the new phone.",),
          ("Repeated unsolicited MFA prompts = likely password spray. Checked sign-in logs: attempts from 3 foreign IPs. Reset password, enabled number matching.",)),
    Topic("vpn", "Network", "VPN", "Incident",
          ("VPN drops every 10 minutes", "Can't connect to VPN from home",
           "VPN connects but can't reach the file server", "GlobalProtect says gateway unreachable"),
          "The VPN keeps disconnecting since this morning.", "Infrastructure", (1, 5, 3, 1), (15, 60),
          ("I've pushed an updated VPN profile to your laptop - please disconnect, reboot and try again.",),
          ("Client's home router double-NATs; UDP 4501 blocked. Switched the profile to SSL fallback as a workaround.",
           "Gateway cert renewed last night; old intermediate still cached on the laptop - pushed the new chain via Intune.")),
    Topic("printer", "Hardware", "Printer", "Incident",
          ("Printer on 3rd floor jamming", "Scan to email stopped working",
           "Can't print to the {site} copier", "Printer shows offline for everyone"),
          "Nothing comes out of the printer and the queue is stuck.", "Service Desk", (4, 5, 1, 0), (10, 40),
          ("I've cleared the print queue and reinstalled the driver - could you try printing a test page?",),
          ("Scan-to-email used the old SMTP credentials after the M365 app password was revoked. Moved the copier to the SMTP relay connector.",
           "Fuser needs a service visit - logged with the copier vendor, ref 55127."),
          item_category="Multifunction printer"),
    Topic("m365", "Software", "Microsoft 365", "Incident",
          ("Outlook keeps asking for password", "Shared mailbox not showing in Outlook",
           "Teams calls dropping during client meetings", "OneDrive sync stuck on 'processing changes'",
           "Calendar invites not arriving from external senders", "Need access to the Accounts shared mailbox"),
          "Outlook/Teams is misbehaving and I can't get my work done.", "Service Desk", (2, 6, 2, 0), (10, 45),
          ("I've re-added the mailbox permissions - it can take up to an hour to appear in Outlook.",
           "Reset the OneDrive sync client remotely; it's re-indexing now and should finish within the hour."),
          ("Outlook prompts caused by a stale WAM token - cleared the AAD.BrokerPlugin folder.",
           "Mail flow rule from the old spam filter was still rejecting the sender's domain. Removed it.")),
    Topic("laptop", "Hardware", "Laptop", "Service Request",
          ("New laptop setup for {first}", "Laptop very slow since the last update",
           "Laptop battery swelling - needs replacement", "Docking station not detecting second monitor"),
          "My laptop needs attention.", "Service Desk", (2, 6, 2, 0), (20, 120),
          ("The new laptop is imaged and enrolled - it's ready to collect from reception.",),
          ("Swollen battery is a safety risk - told the user to stop using it. Warranty claim opened with Dell, case 1184-2231.",
           "Dock firmware 01.00.23 fixes the DisplayPort issue; updated via Dell Command Update.")),
    Topic("onboarding", "Accounts", "Onboarding", "Service Request",
          ("New starter: {newname} starting Monday", "Onboarding - {newname} ({role})"),
          "Please set up accounts, a laptop and phone for our new starter.", "Service Desk", (0, 7, 3, 0), (45, 150),
          ("All set: account, licence, laptop and welcome pack are ready. Credentials go to the manager on the start date.",),
          ("Manager didn't specify shared drive access - copied group memberships from the same role as agreed on the call.",),
          tag_sets=(("new-starter",),), source=2, resolution_scale=1.5),
    Topic("offboarding", "Accounts", "Offboarding", "Service Request",
          ("Leaver: disable account for {newname}", "Offboarding {newname} - last day Friday"),
          "This person is leaving; please remove access on their last day.", "Service Desk", (0, 6, 4, 0), (20, 60),
          ("Access removed and the mailbox is shared with the manager. The laptop will be collected on Monday.",),
          ("Mailbox converted to shared and delegated to the manager; licence removed; MFA methods cleared; laptop to be collected by courier.",),
          tag_sets=(("leaver",),), source=2),
    Topic("backup_check", "Maintenance", "Backup", "Service Request",
          ("Monthly backup restore test - {month}", "Quarterly backup verification",
           "Check offsite backup replication - {month}"),
          "Scheduled maintenance: verify last night's backups and test a restore.", "Infrastructure",
          (6, 4, 0, 0), (20, 60),
          ("Restore test completed successfully - a sample folder was restored and verified.",),
          ("Restored 3 random files from the 14-day-old restore point; hashes match. Replication lag 2h, within target.",),
          tag_sets=(("maintenance", "backup"), ("proactive", "backup"), ("Maintenance",), ("proactive", "maintenance")),
          raised_by_msp=True),
    Topic("patching", "Maintenance", "Patching", "Service Request",
          ("Monthly Windows patching - {month}", "Firmware update on core switch",
           "Patch Tuesday rollout - servers ({month})"),
          "Scheduled maintenance: apply this month's updates.", "Infrastructure", (6, 4, 0, 0), (30, 120),
          ("Patching completed; all servers rebooted and services verified.",),
          ("2 workstations failed KB install (disk full). Cleaned up WinSxS and re-ran; both compliant now.",),
          tag_sets=(("proactive", "patching"), ("maintenance", "patching"), ("Maintenance", "patching")),
          raised_by_msp=True),
    Topic("hardware_refresh", "Maintenance", "Hardware Refresh", "Service Request",
          ("Proactive: replace UPS batteries at {site}", "Replace end-of-life switch in the {site} comms room",
           "Laptop refresh: {first}'s laptop is out of warranty"),
          "Found during the quarterly site review; replacing before it fails.", "Infrastructure",
          (5, 5, 0, 0), (30, 120),
          ("The replacement is done and tested.",),
          ("UPS self-test showed 40% capacity; replacement batteries ordered under the maintenance budget.",),
          tag_sets=((), ("hardware",)), raised_by_msp=True, proactive_case=True),
    Topic("maintenance_window", "Software", "Line of Business", "Service Request",
          ("Request: maintenance window for the ERP upgrade", "Please schedule the server reboot out of hours",
           "Planned downtime for the accounting system update"),
          "Please schedule this outside office hours so nobody is interrupted.", "Infrastructure",
          (2, 7, 1, 0), (30, 90),
          ("Scheduled for Saturday 7am; we'll confirm once everything is back up.",),
          ("Vendor needs remote access during the window - created a time-limited ScreenConnect session.",),
          tag_sets=(("maintenance-window",), ("maintenance-window", "after-hours"))),
    Topic("firewall", "Network", "Firewall", "Service Request",
          ("Firewall rule request for new vendor portal", "Website blocked by web filter",
           "Open a port for the {site} door access system"),
          "We need a change on the firewall.", "Infrastructure", (2, 6, 2, 0), (15, 60),
          ("The rule is in place; please try again and let us know.",),
          ("Vendor asked for any/any from their range - pushed back, allowed only TCP 443 and 8443 to the one host.",)),
    Topic("wifi", "Network", "Wi-Fi", "Incident",
          ("Guest Wi-Fi not working in the conference room", "Wi-Fi keeps disconnecting in the {site} office",
           "Need Wi-Fi access for a visiting auditor"),
          "The wireless is unreliable.", "Infrastructure", (3, 5, 2, 0), (15, 60),
          ("We've adjusted the access point channels - please let us know if the drops continue.",),
          ("AP in the conference room was on DFS channel 52 and kept hopping for radar events. Pinned to 36.",)),
    Topic("phishing", "Security", "Phishing", "Incident",
          ("Suspicious email from 'DocuSign'", "Reported phishing: fake invoice attachment",
           "Clicked a link in a suspicious email", "Is this email from the bank real?"),
          "I received an email that looks suspicious.", "Security", (0, 4, 5, 1), (15, 60),
          ("Thanks for reporting it - it was phishing and we've removed it from everyone's mailbox.",),
          ("Message trace: 43 recipients, no clicks except the reporter. Purged via Explorer; sender domain blocked.",
           "User entered credentials on the fake page. Revoked sessions, reset password, found and removed an inbox rule forwarding to an external Gmail address.")),
    Topic("monitoring", "Monitoring", "Server", "Incident",
          ("Disk space low on {server}", "Server {server} offline", "High CPU on {server}",
           "UPS on battery at {site}"),
          "Automatic alert from the RMM platform.", "Infrastructure", (0, 3, 6, 1), (10, 45),
          ("Alert cleared - the server is back within thresholds.",),
          ("Cleared 18 GB of IIS logs; added a scheduled cleanup task.",
           "Power cut at the site for 4 minutes; UPS held. No action needed."),
          tag_sets=(("monitoring",),), source=RMM_ALERT_SOURCE, raised_by_msp=True),
    Topic("software_install", "Software", "Installation", "Service Request",
          ("Install Adobe Acrobat Pro for {first}", "Need the Zoom plug-in for Outlook", "Request: Visio licence"),
          "Could you install this software for me?", "Service Desk", (4, 5, 1, 0), (10, 30),
          ("Installed and licensed - it's in your Start menu now.",),
          ("Licence assigned from the client's pool (2 of 10 left) - flag at next review.",)),
    Topic("peripherals", "Hardware", "Peripherals", "Service Request",
          ("Second monitor flickering", "Keyboard and mouse for a new desk", "Headset for Teams calls"),
          "I need help with some equipment.", "Service Desk", (5, 4, 1, 0), (10, 30),
          ("Swapped the cable and the monitor is fine now.",),
          ("Ordered 2x Jabra Evolve2 from the client's standard list.",)),
    Topic("phone", "Hardware", "Phone", "Incident",
          ("Desk phone has no dial tone", "Voicemail PIN reset", "Mobile phone setup with company email"),
          "The phone isn't working properly.", "Service Desk", (3, 5, 2, 0), (10, 30),
          ("The phone is re-provisioned; you should have a dial tone now.",),
          ("SIP registration failed after the ISP changed the public IP; updated the SBC allow list.",)),
)}

LINE_OF_BUSINESS = {
    "law": ("iManage check-in failing", "Document comparison add-in crashes Word",
            "Dictation software not recognising the foot pedal", "Court e-filing portal won't accept PDF/A"),
    "dental": ("Dentrix won't open on Operatory 3", "X-ray sensor not detected",
               "Patient check-in tablet frozen", "Imaging server backup warning"),
    "architecture": ("Revit licence error on launch", "AutoCAD crashes when plotting",
                     "Large model sync to SharePoint is very slow", "Enscape rendering fails - GPU driver"),
    "nonprofit": ("Donor database login issue", "Volunteer laptop needs reimaging",
                  "Zoom Room in the community hall has no audio"),
    "accounting": ("QuickBooks multi-user mode error", "Tax software update failing",
                   "Client portal upload not working"),
    "quiet": ("Point-of-sale terminal won't print receipts", "Shop admin login asks for MFA every time"),
}


@dataclass(frozen=True)
class Company:
    """One client company (a department in Freshservice) and how its helpdesk traffic looks."""

    key: str
    name: str
    description: str
    domain: str
    type_of_client: str
    monthly: int  # tickets created in a full month, before the random spread
    spread: int
    requester_count: int
    sites: tuple[str, ...]
    servers: tuple[str, ...]
    job_titles: tuple[str, ...]
    topic_weights: tuple[tuple[str, int], ...]
    after_hours_weight: float = 0.08
    billable_share: float = 0.4


COMMON_TOPICS = (("password", 14), ("mfa", 4), ("vpn", 7), ("printer", 8), ("m365", 16),
                 ("laptop", 7), ("onboarding", 3), ("offboarding", 2), ("backup_check", 2),
                 ("patching", 2), ("hardware_refresh", 1), ("maintenance_window", 1),
                 ("firewall", 3), ("wifi", 4), ("phishing", 4), ("monitoring", 5),
                 ("software_install", 5), ("peripherals", 4), ("phone", 3), ("line_of_business", 8))

COMPANIES = (
    Company("law", "Harrow & Vance LLP", "Law firm, three offices, ~180 staff. Fully managed with 24/7 monitoring.",
            "harrowvance.example", "Managed", 330, 8, 46, ("Boston", "Providence", "Hartford"),
            ("HV-FS01", "HV-DC01", "HV-SQL01", "HV-RDS02"),
            ("Partner", "Associate", "Paralegal", "Legal Secretary", "Office Manager", "Billing Clerk"),
            COMMON_TOPICS, after_hours_weight=0.16, billable_share=0.3),
    Company("dental", "Brightsmile Dental Group", "Five dental practices sharing a practice-management server.",
            "brightsmiledental.example", "Managed", 120, 5, 24, ("Cambridge", "Newton", "Quincy", "Somerville", "Waltham"),
            ("BSD-PM01", "BSD-IMG01"), ("Dentist", "Hygienist", "Receptionist", "Practice Manager", "Dental Nurse"),
            COMMON_TOPICS, billable_share=0.35),
    Company("architecture", "Northline Architecture Studio", "Architecture studio, 35 staff, heavy CAD users; in-house IT lead.",
            "northline-arch.example", "Co-managed", 60, 4, 14, ("Studio",), ("NL-NAS01", "NL-DC01"),
            ("Architect", "Senior Architect", "Designer", "Studio Manager", "IT Lead"),
            COMMON_TOPICS, billable_share=0.6),
    Company("nonprofit", "Riverbend Community Trust", "Community charity with a main office and a community hall.",
            "riverbendtrust.example", "Managed", 25, 3, 9, ("Main office", "Community hall"), ("RCT-FS01",),
            ("Programme Coordinator", "Volunteer Manager", "Fundraiser", "Director"),
            COMMON_TOPICS, billable_share=0.2),
    Company("accounting", "Kessler & Moss Accounting", "Small accounting practice, pay-as-you-go support.",
            "kesslermoss.example", "Break-fix", 8, 2, 5, ("Office",), ("KM-SRV01",),
            ("Accountant", "Bookkeeper", "Partner"),
            (("password", 4), ("m365", 5), ("printer", 3), ("laptop", 2), ("line_of_business", 5),
             ("software_install", 2), ("phishing", 1)), billable_share=1.0),
    Company("quiet", "Alder Peak Outfitters", "Outdoor gear shop, new client onboarded this season.",
            "alderpeak.example", "Co-managed", 0, 0, 4, ("Store", "Warehouse"), ("AP-POS-GW",),
            ("Store Manager", "Sales Associate", "Owner"),
            (("line_of_business", 3), ("m365", 2), ("printer", 1), ("wifi", 1)), billable_share=0.5),
)

# Tickets of the quiet client by month offset from the current month; it joined four months ago.
QUIET_CLIENT_MONTHS = {-4: 2, -3: 0, -2: 1, -1: 0, 0: 1}

SOURCE_MIX = ((1, 40), (2, 24), (3, 17), (4, 5), (9, 3), (15, 11))

HOSTILE_SUBJECTS = (
    ("architecture", "<script>alert(1)</script>",
     "<p>The web form sent this: <script>alert('x')</script> <img src=x onerror=alert(2)></p>"),
    ("architecture", 'Plotter shows <b>bold</b> & "quotes" on its display',
     '<div>It literally says <b>bold</b> &amp; "quotes" &lt;here&gt;.</div>'),
    ("architecture", "Outlook on the reception PC keeps showing 'Trying to connect...' then 'Disconnected' "
                     "every few minutes, which means we miss client emails and meeting invites, and it has "
                     "been going on since the network switch was replaced last Tuesday afternoon - please help",
     None),
    ("nonprofit", "会議室のプリンターが印刷できません", None),
    ("nonprofit", "Δεν μπορώ να συνδεθώ στο VPN από το σπίτι", None),
    ("architecture", "لا أستطيع الوصول إلى البريد الإلكتروني", None),
    ("law", "Laptop won't turn on 💻🔥 after coffee spill ☕", None),
)
SPAM_SUBJECTS = (
    ("law", "You've won a $500 Amazon gift card!!!"),
    ("law", "SEO services for harrowvance.example - page 1 on Google guaranteed"),
    (None, "Re: Invoice #88231 overdue - click here to pay"),
    ("law", "Crypto investment opportunity - 40% monthly returns"),
    (None, "Unsubscribe"),
)
DELETED_SUBJECTS = (
    ("law", "Duplicate: Printer on 3rd floor jamming"),
    ("dental", "Test ticket - please ignore"),
    ("law", "Sent by mistake"),
    ("dental", "Duplicate: Dentrix won't open on Operatory 3"),
)
INTERNAL_SUBJECTS = (
    "Renew wildcard certificate for the client portal",
    "Update the RMM agent on the MSP jump box",
    "Quarterly access review - Intego admin accounts",
)


@dataclass
class _Plan:
    """Everything decided about one ticket before it is written into the account."""

    company: Company | None
    topic: Topic | None
    created: datetime
    subject: str
    requester_id: int | None
    requester_first: str
    fields: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    first_response: datetime | None = None
    resolved: datetime | None = None  # final resolution (None: open or closed-only)
    closed: datetime | None = None
    reopened: datetime | None = None
    status: int = 2
    conversation_count: int = 0
    time_entries: bool = False
    csat: bool = False
    special: str | None = None


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


def _hour_weight(moment: datetime, after_hours_weight: float) -> float:
    local = moment + LOCAL_OFFSET
    hour, weekday = local.hour, local.weekday()
    if weekday >= 5:
        return after_hours_weight if 9 <= hour < 18 else 0.02
    if 9 <= hour < 12:
        return 1.2
    if 8 <= hour < 18:
        return 0.8 if hour == 12 else 1.0
    if hour in (7, 18):
        return 0.3
    return after_hours_weight if 19 <= hour < 23 else 0.02


def _sample_moment(rng: random.Random, start: datetime, end: datetime,
                   after_hours_weight: float | None) -> datetime:
    """A creation time in [start, end), weighted towards business hours (None: uniform)."""
    span = (end - start).total_seconds()
    for _ in range(200):
        candidate = start + timedelta(seconds=int(rng.random() * span))
        if after_hours_weight is None or rng.random() * 1.2 < _hour_weight(candidate, after_hours_weight):
            return candidate
    return candidate


def _weighted(rng: random.Random, choices: tuple[tuple[Any, int], ...] | list) -> Any:
    total = sum(weight for _, weight in choices)
    pick = rng.random() * total
    for value, weight in choices:
        pick -= weight
        if pick < 0:
            return value
    return choices[-1][0]


def _time_spent(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


class _Builder:
    """Builds the demo account step by step from one seeded random generator."""

    def __init__(self, now: datetime | None, seed: int) -> None:
        self.rng = random.Random(seed)
        self.account = Account(now)
        self.now = self.account.now
        self.current_month = _month_start(self.now)
        self.previous_month = _add_months(self.current_month, -1)
        # Two extra days before the oldest month so six full months exist even at UTC+14.
        self.history_start = _add_months(self.current_month, -(HISTORY_MONTHS - 1)) - timedelta(days=2)
        self.agents: list[dict] = []
        self.agents_by_group: dict[str, list[dict]] = {name: [] for name in GROUP_IDS}
        self.requesters: dict[str, list[dict]] = {}
        self.vip_ids: set[int] = set()
        self.requester_weights: dict[str, list[float]] = {}
        self.departments: dict[str, dict] = {}
        self.rmm_requester: dict = {}
        self.plans: list[_Plan] = []

    # ---- people and companies

    def add_people(self) -> None:
        for first, last, title, groups in AGENTS:
            agent = self.account.add_agent(
                first, last, job_title=title,
                member_of=[GROUP_IDS[group] for group in groups],
                created_at=self.now - timedelta(days=1200 - 90 * len(self.agents)))
            self.agents.append(agent)
            for group in groups:
                self.agents_by_group[group].append(agent)
        self.rmm_requester = self.account.add_requester(
            "RMM", "Alerts", "alerts@intego.example", job_title="Monitoring system",
            created_at=self.now - timedelta(days=1500))
        used_names: set[tuple[str, str]] = set()
        for company in COMPANIES:
            onboarded = (_add_months(self.current_month, -4) + timedelta(days=4)
                         if company.key == "quiet" else self.now - timedelta(days=900 + 37 * len(self.departments)))
            department = self.account.add_department(
                company.name, description=company.description, domains=[company.domain],
                custom_fields={"type_of_client": company.type_of_client,
                               "contract_code": f"C-{1040 + len(self.departments)}"},
                created_at=onboarded)
            self.departments[company.key] = department
            people = []
            for index in range(company.requester_count):
                while True:
                    name = (self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES))
                    if name not in used_names:
                        used_names.add(name)
                        break
                title = company.job_titles[0] if index < 2 else self.rng.choice(company.job_titles)
                if index == 1:
                    title = company.job_titles[-1] if company.key != "law" else "Office Manager"
                phone = f"+1 617 555 {1000 + len(used_names):04d}"
                person = self.account.add_requester(
                    name[0], name[1], department_ids=[department["id"]], job_title=title,
                    work_phone_number=phone, has_logged_in=self.rng.random() < 0.7,
                    created_at=to_utc(onboarded) + timedelta(days=index % 20))
                people.append(person)
                if index == 0 or (index >= 2 and index % 12 == 0):
                    self.vip_ids.add(person["id"])
            self.requesters[company.key] = people
            head, prime = people[0], people[1]
            department.update(head_user_id=head["id"], head_name=f"{head['first_name']} {head['last_name']}",
                              prime_user_id=prime["id"],
                              prime_user_name=f"{prime['first_name']} {prime['last_name']}")

    # ---- planning

    def _pick_requester(self, company: Company) -> dict:
        people = self.requesters[company.key]
        if company.key not in self.requester_weights:
            # A few people raise most tickets, as in any office.
            # The head of the company (index 0, a VIP) is among the least frequent.
            weights, running = [], 0.0
            for index in range(len(people)):
                rank = (index - 2) % len(people)
                running += 1.0 / (rank + 1) ** 0.8
                weights.append(running)
            self.requester_weights[company.key] = weights
        return self.rng.choices(people, cum_weights=self.requester_weights[company.key])[0]

    def _pick_agent(self, group: str) -> dict:
        return self.rng.choice(self.agents_by_group[group])

    def _subject(self, template: str, company: Company, first: str, created: datetime) -> str:
        return template.format(
            first=first, site=self.rng.choice(company.sites), server=self.rng.choice(company.servers),
            month=calendar.month_name[created.month] + f" {created.year}",
            newname=f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}",
            role=self.rng.choice(company.job_titles))

    def plan_company_tickets(self) -> None:
        month = _month_start(self.history_start)
        while month <= self.current_month:
            month_end = _add_months(month, 1)
            start, end = max(month, self.history_start), min(month_end, self.now)
            share = max(0.0, (end - start).total_seconds() / (month_end - month).total_seconds())
            offset = (month.year - self.current_month.year) * 12 + month.month - self.current_month.month
            for company in COMPANIES:
                base = company.monthly + self.rng.randint(-company.spread, company.spread)
                if company.key == "quiet":
                    count = QUIET_CLIENT_MONTHS.get(offset, 0)
                    start = max(start, to_utc(self.departments["quiet"]["created_at"]))
                else:
                    count = round(base * share)
                for _ in range(count):
                    if end > start:
                        self.plans.append(self._plan_ticket(company, start, end))
            month = month_end

    def _plan_ticket(self, company: Company, start: datetime, end: datetime,
                     topic_key: str | None = None, created: datetime | None = None) -> _Plan:
        rng = self.rng
        topic = TOPICS[topic_key] if topic_key else None
        if topic is None:
            key = _weighted(rng, company.topic_weights)
            topic = TOPICS.get(key) or _line_of_business_topic(company)
        if created is None:
            hours_weight = None if topic.key == "monitoring" else company.after_hours_weight
            created = _sample_moment(rng, start, end, hours_weight)
        if topic.raised_by_msp:
            requester = self.rmm_requester if topic.key == "monitoring" else self._pick_agent(topic.group)
        else:
            requester = self._pick_requester(company)
        subject = self._subject(rng.choice(topic.subjects), company, requester["first_name"], created)
        priority = _weighted(rng, tuple(zip((1, 2, 3, 4), topic.priorities, strict=True)))
        tags = list(rng.choice(topic.tag_sets))
        if requester["id"] in self.vip_ids:
            tags.append("vip")
            priority = min(4, priority + 1)
        source = topic.source or (2 if topic.raised_by_msp else _weighted(rng, SOURCE_MIX))
        if source == 9:
            tags.append("onsite")
        # The proactive_case checkbox was added two months into the history: older tickets have null.
        field_added = _add_months(self.current_month, -4)
        proactive_case = topic.proactive_case if created >= field_added else None
        plan = _Plan(company, topic, created, subject, requester["id"], requester["first_name"], tags=tags)
        plan.fields = {
            "type": topic.ticket_type, "priority": priority, "source": source,
            "category": topic.category, "sub_category": topic.sub_category,
            "item_category": topic.item_category, "group_id": GROUP_IDS[topic.group],
            "custom_fields": {"site": rng.choice(company.sites), "proactive_case": proactive_case},
            "description_text": (f"Scheduled by Intego: {topic.detail}" if topic.raised_by_msp
                                 else f"Hi team, {topic.detail} Thanks, {requester['first_name']}"),
        }
        self._plan_outcome(plan, priority)
        return plan

    def _plan_outcome(self, plan: _Plan, priority: int, stuck_status: int | None = None) -> None:
        """Decide response, resolution, status and activity of a ticket from its SLA targets."""
        rng, now, topic, created = self.rng, self.now, plan.topic, plan.created
        assert topic is not None  # _plan_ticket always picks a topic
        fr_target = timedelta(hours=FIRST_RESPONSE_HOURS[priority])
        resolution_target = timedelta(hours=RESOLUTION_HOURS[priority] * topic.resolution_scale)
        if rng.random() < (0.5 if topic.key == "monitoring" else 0.93):
            plan.fields["fr_due_by"] = created + fr_target
            plan.fields["due_by"] = created + resolution_target
            plan.fields["sla_policy_id"] = SLA_POLICY_IDS[priority]
        auto_resolved = topic.key == "monitoring" and rng.random() < 0.4
        fr_met = rng.random() < 0.87
        response_delay = fr_target * (rng.uniform(0.05, 0.9) if fr_met else rng.uniform(1.1, 4.0))
        resolution_met = rng.random() < 0.85
        duration = resolution_target * (rng.uniform(0.08, 0.95) if resolution_met else rng.uniform(1.05, 5.0))
        if auto_resolved:
            # The RMM closes its own alert when the check recovers; nobody replies.
            first_response = None
            duration = timedelta(minutes=rng.randint(4, 40))
        elif rng.random() < 0.02:
            first_response = None  # solved by the requester before anyone answered
        else:
            first_response = created + response_delay
            duration = max(duration, response_delay + timedelta(minutes=rng.randint(5, 90)))
        resolved: datetime | None = created + duration
        stuck = stuck_status is not None or (
            not topic.raised_by_msp and not auto_resolved and rng.random() < 0.008)
        reopened = None
        if resolved is not None and not stuck and rng.random() < 0.03:
            reopened = resolved + timedelta(minutes=rng.randint(120, 2880))
            resolved = reopened + timedelta(minutes=rng.randint(60, 1440))
        if stuck or resolved is None or resolved > now:
            resolved = None
        if reopened is not None and reopened > now:
            reopened = None
        if first_response is not None and first_response > now:
            first_response = None
        plan.first_response, plan.reopened = first_response, reopened
        if resolved is None:
            if stuck:
                plan.status = stuck_status or _weighted(rng, ((6, 4), (7, 4), (3, 2)))
            elif first_response is None:
                plan.status = 2
            else:
                plan.status = _weighted(rng, ((2, 45), (3, 20), (6, 25), (7, 10)))
        elif auto_resolved or rng.random() >= 0.03:
            plan.resolved = resolved
            plan.status = 4
            if resolved + AUTO_CLOSE_AFTER <= now and (auto_resolved or rng.random() < 0.8):
                plan.closed = resolved + AUTO_CLOSE_AFTER
                plan.status = 5
        else:
            plan.closed = resolved  # closed straight away, never marked resolved
            plan.status = 5
        if plan.status != 2 or first_response is not None or rng.random() < 0.5:
            plan.fields["responder_id"] = self._pick_agent(topic.group)["id"]
        fr_due = plan.fields.get("fr_due_by")
        due = plan.fields.get("due_by")
        end = plan.resolved or plan.closed or now
        plan.fields["fr_escalated"] = bool(fr_due and (first_response or now) > fr_due)
        plan.fields["is_escalated"] = bool(due and end > due) or plan.fields["fr_escalated"]
        if auto_resolved:
            plan.conversation_count = 0
        elif first_response is None:
            plan.conversation_count = 1 if now - created > timedelta(days=1) and rng.random() < 0.5 else 0
        else:
            plan.conversation_count = _weighted(rng, ((0, 10), (1, 24), (2, 24), (3, 16), (4, 8), (5, 5),
                                                      (6, 4), (8, 4), (10, 2), (13, 2), (17, 1)))
        finished = plan.resolved or plan.closed
        plan.time_entries = not auto_resolved and (rng.random() < 0.8 if finished else
                                                    first_response is not None and rng.random() < 0.3)
        plan.csat = bool(finished and not topic.raised_by_msp and finished + timedelta(hours=2) <= now
                         and rng.random() < 0.075)

    # ---- special tickets

    def plan_special_tickets(self) -> None:
        rng, previous = self.rng, self.previous_month
        by_key = {company.key: company for company in COMPANIES}
        for index, (company_key, subject, description) in enumerate(HOSTILE_SUBJECTS):
            company = by_key[company_key]
            created = previous + timedelta(days=17 + index, hours=15, minutes=7 * index)
            plan = self._plan_ticket(company, created, created, "m365", created=created)
            plan.subject, plan.special = subject, "hostile"
            if description:
                plan.fields.pop("description_text", None)
                plan.fields["description"] = description
            self.plans.append(plan)
        for index, (spam_company_key, subject) in enumerate(SPAM_SUBJECTS):
            created = _add_months(self.current_month, -(index % 4)) - timedelta(days=9 - index, hours=3)
            sender = self.account.add_requester("Unknown", "Sender", f"noreply{index}@mailer{index}.example",
                                                created_at=created)
            department_id = self.departments[spam_company_key]["id"] if spam_company_key else None
            self.plans.append(_Plan(by_key[spam_company_key] if spam_company_key else None, None, created, subject, sender["id"], "Unknown",
                                    fields={"source": 1, "spam": True, "department_id": department_id,
                                            "description_text": subject}, special="spam"))
        for index, (company_key, subject) in enumerate(DELETED_SUBJECTS):
            company = by_key[company_key]
            created = _add_months(self.current_month, -(index % 3)) - timedelta(days=12 - index, hours=-15)
            plan = self._plan_ticket(company, created, created, "printer", created=created)
            plan.subject, plan.special = subject, "deleted"
            plan.fields["deleted"] = True
            self.plans.append(plan)
        for index, subject in enumerate(INTERNAL_SUBJECTS):
            created = _add_months(self.current_month, -1 - index) + timedelta(days=5 + index, hours=14)
            agent = self.agents[index + 1]
            self.plans.append(_Plan(
                None, None, created, subject, agent["id"], agent["first_name"],
                fields={"type": "Service Request", "priority": 2, "source": 2, "category": "Maintenance",
                        "sub_category": "Patching", "group_id": GROUP_IDS["Infrastructure"],
                        "responder_id": agent["id"], "description_text": f"Internal task: {subject}."},
                first_response=created + timedelta(hours=1), resolved=created + timedelta(days=2),
                closed=created + timedelta(days=5), status=5, conversation_count=2, time_entries=True,
                special="internal"))
        quiet = by_key["quiet"]
        stuck_created = _add_months(self.current_month, -2) + timedelta(days=11, hours=16)
        plan = self._plan_ticket(quiet, stuck_created, stuck_created, "m365", created=stuck_created)
        plan.subject = "Card reader not pairing with the POS after the vendor update"
        plan.fields.update(category="Software", sub_category="Line of Business", priority=3)
        plan.fields["fr_due_by"] = stuck_created + timedelta(hours=1)
        plan.fields["due_by"] = stuck_created + timedelta(hours=24)
        plan.first_response = stuck_created + timedelta(minutes=38)
        plan.resolved = plan.closed = None
        plan.status, plan.special, plan.conversation_count = 7, "quiet-backlog", 6
        plan.fields["fr_escalated"] = False
        plan.fields["is_escalated"] = stuck_created + timedelta(hours=24) < self.now
        plan.csat = False
        self.plans.append(plan)
        self.plans.append(self._project_plan())
        self._plan_old_backlog(rng)

    def _project_plan(self) -> _Plan:
        company = COMPANIES[0]
        created = _add_months(self.current_month, -4) + timedelta(days=2, hours=14)
        resolved = self.previous_month + timedelta(days=18, hours=17, minutes=30)
        lead = self.agents_by_group["Projects"][0]
        prime = self.requesters["law"][1]
        return _Plan(
            company, None, created, "Microsoft 365 tenant migration - phase 2 (mailboxes and SharePoint)",
            prime["id"], prime["first_name"],
            fields={"type": "Service Request", "priority": 2, "source": 2, "category": "Projects",
                    "sub_category": "Migration", "group_id": GROUP_IDS["Projects"], "responder_id": lead["id"],
                    "custom_fields": {"site": "Boston", "proactive_case": False},
                    "description_text": "Phase 2 of the approved migration project: move the remaining "
                                        "120 mailboxes and the document library to the new tenant."},
            tags=["project", "vip"], first_response=created + timedelta(hours=2), resolved=resolved,
            closed=resolved + AUTO_CLOSE_AFTER if resolved + AUTO_CLOSE_AFTER <= self.now else None,
            status=5 if resolved + AUTO_CLOSE_AFTER <= self.now else 4, conversation_count=124,
            time_entries=True, special="project")

    def _plan_old_backlog(self, rng: random.Random) -> None:
        """Tickets that have been waiting for months, so the backlog ages past 90 days."""
        for company_key, days_ago, status in (("law", 200, 7), ("law", 130, 6), ("dental", 150, 3),
                                              ("architecture", 101, 7)):
            company = next(company for company in COMPANIES if company.key == company_key)
            created = self.now - timedelta(days=days_ago, hours=3)
            plan = self._plan_ticket(company, created, created, "laptop", created=created)
            plan.special = "old-backlog"
            self._plan_outcome(plan, plan.fields["priority"], stuck_status=status)
            self.plans.append(plan)

    # ---- writing

    def write(self) -> None:
        self.plans.sort(key=lambda plan: (plan.created, plan.subject))
        window_start = _add_months(self.previous_month, -1)
        heavy = [plan for plan in self.plans
                 if plan.special is None and plan.resolved and plan.first_response
                 and plan.company is not None and plan.company.key in ("law", "dental", "architecture")
                 and plan.created >= window_start]
        for plan in self.rng.sample(heavy, min(6, len(heavy))):
            plan.conversation_count = self.rng.randint(25, 40)
        for plan in self.plans:
            self._write_ticket(plan)

    def _write_ticket(self, plan: _Plan) -> None:
        rng, account = self.rng, self.account
        department_id = plan.fields.pop("department_id", None)
        if department_id is None and plan.company is not None and plan.special != "spam":
            department_id = self.departments[plan.company.key]["id"]
        first_assigned = None
        if plan.fields.get("responder_id") and rng.random() < 0.65:
            first_assigned = plan.created + timedelta(minutes=rng.randint(1, 20))
            if plan.first_response is not None:
                first_assigned = min(first_assigned, plan.first_response)
            if first_assigned > self.now:
                first_assigned = None
        pending_since = None
        if plan.status in (3, 6, 7):
            anchor = plan.first_response or plan.created
            pending_since = min(anchor + timedelta(hours=rng.randint(1, 48)), self.now)
        stats = {
            "first_responded_at": plan.first_response, "resolved_at": plan.resolved,
            "closed_at": plan.closed, "opened_at": plan.reopened, "pending_since": pending_since,
            "first_assigned_at": first_assigned, "assigned_at": first_assigned,
            "group_escalated": bool(plan.fields.get("is_escalated")) and rng.random() < 0.3,
        }
        ticket = account.add_ticket(department_id, plan.created, subject=plan.subject, status=plan.status,
                                    requester_id=plan.requester_id, tags=plan.tags, stats=stats,
                                    **plan.fields)
        self._write_conversations(plan, ticket)
        if plan.time_entries:
            self._write_time_entries(plan, ticket)
        if plan.csat:
            self._write_csat(plan, ticket)

    def _write_conversations(self, plan: _Plan, ticket: dict) -> None:
        rng, account, now = self.rng, self.account, self.now
        count = plan.conversation_count
        if count <= 0:
            return
        topic = plan.topic
        replies = (topic.replies if topic else ()) + AGENT_REPLIES
        notes = (topic.notes if topic else ()) + PRIVATE_NOTES
        agent_id = ticket["responder_id"]
        end = plan.resolved or plan.closed or now
        if plan.first_response is None:
            # Nobody has answered: the requester chases, or a technician leaves a note.
            moment = min(plan.created + timedelta(hours=rng.randint(20, 30)), now)
            account.add_conversation(ticket["id"], incoming=True, created_at=moment,
                                     body_text="Any update on this? Nobody has got back to me yet.")
            return
        first = plan.first_response
        account.add_conversation(ticket["id"], incoming=False, user_id=agent_id, created_at=first,
                                 body_text=rng.choice(FIRST_REPLIES).format(first=plan.requester_first))
        span = max((end - first).total_seconds(), 60.0 * count)
        moments = sorted(first + timedelta(seconds=int(rng.uniform(30, span)))
                         for _ in range(count - 1))
        for index, moment in enumerate(moments):
            moment = min(moment, now)
            last = index == len(moments) - 1
            kind = "reply" if last and (plan.resolved or plan.closed) else _weighted(
                rng, (("requester", 40), ("reply", 33), ("note", 22), ("public_note", 5)))
            if kind == "requester":
                account.add_conversation(ticket["id"], incoming=True, created_at=moment,
                                         body_text=rng.choice(REQUESTER_REPLIES))
            elif kind == "reply":
                if last and topic and topic.replies:
                    text = f"Hi {plan.requester_first}. {rng.choice(topic.replies)}"
                else:
                    text = rng.choice(replies).format(first=plan.requester_first)
                account.add_conversation(ticket["id"], incoming=False, user_id=agent_id, created_at=moment,
                                         body_text=text)
            elif kind == "note":
                account.add_conversation(ticket["id"], incoming=False, private=True, source=2,
                                         user_id=rng.choice(self.agents)["id"], created_at=moment,
                                         body_text=rng.choice(notes))
            else:
                account.add_conversation(ticket["id"], incoming=False, private=False, source=2,
                                         user_id=agent_id, created_at=moment,
                                         body_text="Update: work is scheduled; we'll confirm when it's done.")

    def _write_time_entries(self, plan: _Plan, ticket: dict) -> None:
        rng, account, now = self.rng, self.account, self.now
        topic, company = plan.topic, plan.company
        low, high = topic.minutes if topic else (20, 60)
        start = plan.first_response or plan.created
        end = plan.resolved or plan.closed or now
        billable_share = company.billable_share if company else 0.0
        if topic and topic.raised_by_msp and company and company.type_of_client != "Break-fix":
            billable_share = 0.0  # maintenance is part of the managed contract
        if plan.special == "project":
            # One lump entry for the cut-over weekend, logged in the previous month.
            executed = self.previous_month + timedelta(days=9, hours=16)
            account.add_time_entry(ticket["id"], "105:30", executed_at=executed,
                                   created_at=executed + timedelta(hours=1), agent_id=ticket["responder_id"],
                                   note="Cut-over weekend: mailbox and SharePoint migration, 3 engineers")
            for hours, days in (("6:00", 10), ("4:30", 30), ("12:15", 55), ("2:45", 80)):
                moment = plan.created + timedelta(days=days, hours=3)
                if moment < end:
                    account.add_time_entry(ticket["id"], hours, executed_at=moment,
                                           created_at=moment + timedelta(minutes=20),
                                           agent_id=rng.choice(self.agents)["id"],
                                           note="Migration planning and pilot batch")
            return
        entries = _weighted(rng, ((1, 75), (2, 17), (3, 5), (4, 3)))
        for _ in range(entries):
            span = max((end - start).total_seconds(), 60.0)
            executed = start + timedelta(seconds=int(rng.uniform(0, span)))
            created = min(executed + timedelta(minutes=rng.randint(0, 90)), now)
            minutes = max(5, 5 * round(rng.randint(low, high) / 5))
            agent_id = ticket["responder_id"] if rng.random() < 0.85 else rng.choice(self.agents)["id"]
            account.add_time_entry(ticket["id"], _time_spent(minutes), executed_at=min(executed, now),
                                   created_at=created, start_time=created, agent_id=agent_id,
                                   billable=rng.random() < billable_share,
                                   note=rng.choice(("Remote session", "Investigation", "Phone call with user",
                                                    "Onsite visit", "Configuration and testing")))

    def _write_csat(self, plan: _Plan, ticket: dict) -> None:
        rng = self.rng
        finished = plan.resolved or plan.closed
        assert finished is not None  # only finished tickets get a survey (plan.csat)
        moment = min(finished + timedelta(minutes=rng.randint(60, 2880)), self.now)
        if rng.random() < 0.6:
            acquired = _weighted(rng, ((4, 60), (3, 25), (2, 10), (1, 5)))
            rating = {4: 103, 3: 101, 2: 100, 1: -101}[acquired]
            score = {"acquired_score": acquired, "total_score": 4}
            mood = "positive" if acquired >= 3 else "neutral" if acquired == 2 else "negative"
        else:
            rating = _weighted(rng, ((101, 55), (103, 15), (100, 15), (-101, 10), (-102, 5)))
            score = None
            mood = "positive" if rating >= 101 else "neutral" if rating == 100 else "negative"
        comment = rng.choice(CSAT_COMMENTS[mood]) if rng.random() < 0.7 else None
        self.account.set_csat(ticket["id"], overall_rating=rating, score=score, comment=comment,
                              created_at=moment)


def _line_of_business_topic(company: Company) -> Topic:
    return Topic(f"line_of_business_{company.key}", "Software", "Line of Business", "Incident",
                 LINE_OF_BUSINESS[company.key], "The practice software is giving an error.", "Service Desk",
                 (2, 5, 3, 1), (15, 75),
                 ("I've been in touch with the software vendor and applied their fix - please try again.",),
                 ("Vendor support case opened; they confirmed a known issue fixed in the next patch.",
                  "Database service had stopped after the Windows update; set it to delayed auto-start."))


def build_demo_account(now: datetime | None = None, seed: int = 2026) -> Account:
    """Build the demo account anchored at `now`; deterministic per (now, seed).

    The default anchor is the start of the current UTC hour, so demo runs within the same hour
    show the same figures.
    """
    anchor = clock.now().replace(minute=0, second=0, microsecond=0) if now is None else to_utc(now)
    builder = _Builder(anchor, seed)
    builder.add_people()
    builder.plan_company_tickets()
    builder.plan_special_tickets()
    builder.write()
    add_demo_devices(builder.account, seed)
    return builder.account

