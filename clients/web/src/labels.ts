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
  RepeatClientPolicy,
  ResponsibleSource,
  SaveMessagesMode,
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
};
