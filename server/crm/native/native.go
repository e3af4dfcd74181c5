package native

import "github.com/switchboardhq/switchboard/server/crm"

// Kind is the built-in CRM's kind.
const Kind = crm.Native

func init() { crm.Register(Kind, crm.Vendor{Local: true}) }
