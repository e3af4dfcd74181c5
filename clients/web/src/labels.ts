// Words for the contract's enums, as an admin reads them.
import {
  AccessRule,
  ChannelAccessLevel,
  ChannelKind,
  CrmKind,
  DistributionMode,
  EmployeeRole,
  EntityAction,
  GlobalChatVisibility,
  NotificationReason,
  Presence,
  RepeatClientPolicy,
  ResponsibleSource,
  SaveMessagesMode,
  Weekday,
} from "@switchboard/sdk";

export const crmKinds: Record<CrmKind, string> = {
  [CrmKind.UNSPECIFIED]: "none",
  [CrmKind.NATIVE]: "Switchboard (built-in CRM)",
  [CrmKind.AMOCRM]: "amoCRM",
  [CrmKind.KOMMO]: "Kommo",
  [CrmKind.BITRIX24]: "Bitrix24",
  [CrmKind.ZOHO]: "Zoho CRM",
  [CrmKind.HUBSPOT]: "HubSpot",
  [CrmKind.PIPEDRIVE]: "Pipedrive",
};

export const channelKinds: Record<ChannelKind, string> = {
  [ChannelKind.UNSPECIFIED]: "channel",
  [ChannelKind.WHATSAPP]: "WhatsApp",
  [ChannelKind.WABA]: "WhatsApp Business API",
  [ChannelKind.TELEGRAM]: "Telegram",
  [ChannelKind.INSTAGRAM]: "Instagram",
  [ChannelKind.VIBER]: "Viber",
  [ChannelKind.VK]: "VK",
  [ChannelKind.AVITO]: "Avito",
};

export const roles: { value: EmployeeRole; label: string }[] = [
  { value: EmployeeRole.SALES_REP, label: "Sales rep" },
  { value: EmployeeRole.MANAGER, label: "Manager" },
  { value: EmployeeRole.QUALITY_CONTROL, label: "Quality control" },
];

export const distributions: { value: DistributionMode; label: string; hint: string }[] = [
  { value: DistributionMode.ROUND_ROBIN, label: "Round robin", hint: "each new client goes to the next eligible member" },
  { value: DistributionMode.WEIGHTED, label: "Weighted", hint: "each eligible member gets `weight` new clients in a row" },
  { value: DistributionMode.FIRST_RESPONDER, label: "First responder", hint: "every eligible member sees the client; the first to answer gets it" },
];

export const repeatPolicies: { value: RepeatClientPolicy; label: string }[] = [
  { value: RepeatClientPolicy.CREATE_NEW_DEAL, label: "Create a new deal" },
  { value: RepeatClientPolicy.APPEND_TO_LAST_CLOSED_DEAL, label: "Add to the last closed deal" },
];

export const saveModes: { value: SaveMessagesMode; label: string }[] = [
  { value: SaveMessagesMode.EACH_MESSAGE, label: "Each message" },
  { value: SaveMessagesMode.HOURLY, label: "Hourly" },
  { value: SaveMessagesMode.DAILY, label: "Daily" },
  { value: SaveMessagesMode.NONE, label: "Don't save" },
];

export const visibilities: { value: GlobalChatVisibility; label: string }[] = [
  { value: GlobalChatVisibility.OWN, label: "Own chats only" },
  { value: GlobalChatVisibility.OWN_AND_UNASSIGNED, label: "Own and unassigned chats" },
  { value: GlobalChatVisibility.ALL, label: "All chats (others' read-only)" },
];

export const accessLevels: { value: ChannelAccessLevel; label: string }[] = [
  { value: ChannelAccessLevel.NO_ACCESS, label: "No access" },
  { value: ChannelAccessLevel.READ, label: "Read" },
  { value: ChannelAccessLevel.READ_WRITE, label: "Read + send" },
];

export const reasons: Record<NotificationReason, string> = {
  [NotificationReason.UNSPECIFIED]: "Notification",
  [NotificationReason.RESPONSIBLE]: "Responsible",
  [NotificationReason.NEW_CLIENT_ASSIGNED]: "New client assigned",
  [NotificationReason.NEW_CLIENT_CANDIDATE]: "New client — first responder",
  [NotificationReason.MANAGER_ALL_MESSAGES]: "Manager: all messages",
  [NotificationReason.GENERAL_CHAT]: "General chat",
  [NotificationReason.CHAT_REVOKED]: "Chat revoked",
  [NotificationReason.MANAGER_ESCALATION]: "Manager: unanswered client",
};

export const accessRules: Record<AccessRule, string> = {
  [AccessRule.UNSPECIFIED]: "—",
  [AccessRule.NOT_A_MEMBER]: "not a member of the channel",
  [AccessRule.DEACTIVATED]: "deactivated employee",
  [AccessRule.QUALITY_CONTROL]: "quality control",
  [AccessRule.MANAGER]: "manager",
  [AccessRule.CHAT_ADMIN]: "chat admin",
  [AccessRule.RESPONSIBLE]: "responsible for the client",
  [AccessRule.FIRST_RESPONDER_CANDIDATE]: "first-responder candidate",
  [AccessRule.UNASSIGNED_VISIBLE]: "unassigned client, visible by global visibility",
  [AccessRule.ALL_VISIBLE]: "another employee's client, visible by global visibility ALL",
  [AccessRule.NOT_VISIBLE]: "not visible",
};

export const entityActions: Record<EntityAction, string> = {
  [EntityAction.UNSPECIFIED]: "—",
  [EntityAction.CREATED]: "created",
  [EntityAction.ATTACHED_TO_OPEN]: "attached to the open deal",
  [EntityAction.ATTACHED_TO_LAST_CLOSED]: "attached to the last closed deal",
  [EntityAction.CONTACT_ONLY]: "contact only",
};

export const responsibleSources: Record<ResponsibleSource, string> = {
  [ResponsibleSource.UNSPECIFIED]: "—",
  [ResponsibleSource.KEPT]: "kept",
  [ResponsibleSource.DISTRIBUTED]: "distributed",
  [ResponsibleSource.PENDING_FIRST_RESPONDER]: "waiting for a first responder",
  [ResponsibleSource.NONE_ELIGIBLE]: "nobody eligible (general chat)",
  [ResponsibleSource.NONE_AVAILABLE]: "nobody available now (waits; general chat)",
};

/**
 * The regions the server's numbering plans know (libphonenumber's supported
 * regions), for the home region. A stored region missing here is still shown.
 */
export const homeRegions: string[] = (
  "AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE " +
  "BF BG BH BI BJ BL BM BN BO BQ BR BS BT BW BY BZ CA CC CD CF " +
  "CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO " +
  "DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG " +
  "GH GI GL GM GN GP GQ GR GT GU GW GY HK HN HR HT HU ID IE IL " +
  "IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW " +
  "KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH " +
  "MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF " +
  "NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT " +
  "PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM " +
  "SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL TM TN TO " +
  "TR TT TV TW TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK " +
  "YE YT ZA ZM ZW"
).split(" ");

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" });
  } catch {
    return undefined;
  }
})();

/** "Russia (RU)", or the code alone where the browser has no name for it. */
export function regionLabel(code: string): string {
  let name: string | undefined;
  try {
    name = regionNames?.of(code);
  } catch {
    name = undefined;
  }
  return name && name !== code ? `${name} (${code})` : code;
}

export const presences: { value: Presence; label: string }[] = [
  { value: Presence.ONLINE, label: "Online" },
  { value: Presence.AWAY, label: "Away" },
  { value: Presence.OFFLINE, label: "Offline" },
];

export const weekdays: { value: Weekday; label: string }[] = [
  { value: Weekday.MONDAY, label: "Monday" },
  { value: Weekday.TUESDAY, label: "Tuesday" },
  { value: Weekday.WEDNESDAY, label: "Wednesday" },
  { value: Weekday.THURSDAY, label: "Thursday" },
  { value: Weekday.FRIDAY, label: "Friday" },
  { value: Weekday.SATURDAY, label: "Saturday" },
  { value: Weekday.SUNDAY, label: "Sunday" },
];
