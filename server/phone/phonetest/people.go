package phonetest

import "github.com/switchboardhq/switchboard/server/phone"

// Person is one person's number, the options of the account it reaches,
// and the ways it is written there.
type Person struct {
	Want      string
	O         phone.Options
	Spellings []string
}

var (
	ru   = phone.Options{HomeRegion: "RU", Convert8: true} // the seed: "our numbers are Russian"
	none = phone.Options{}                                 // convert_8_to_plus7 off: international
)

// OnePerson lists, per person, the ways their number reaches Switchboard:
// typed by a client or a manager, pasted from a document, exported by a CRM,
// sent by one WhatsApp gateway or another. Each way is one client. The
// routing suite replays the same table through RouteIncomingMessage.
var OnePerson = []Person{
	{"+79161234567", ru, []string{
		"+79161234567", "+7 916 123 45 67", "8 (916) 123-45-67", "89161234567", "79161234567",
		"916 123-45-67", "9161234567", "+7\u00a0916\u00a0123\u00a045\u00a067", "8 (916) 123–45–67",
		"８ ９１６ １２３ ４５ ６７", "tel:+7-916-123-45-67", "007 916 123 45 67", "+7 (916) 123-45-67",
	}},
	{"+79501234567", ru, []string{"9501234567", "950 123-45-67", "8 950 123-45-67", "+7 950 123 45 67"}},
	{"+77012345678", ru, []string{"+7 701 234 5678", "8 701 234 56 78", "77012345678", "701 234 56 78"}},
	{"+77012345678", phone.Options{HomeRegion: "KZ", Convert8: true}, []string{"8 (701) 234-56-78", "+7 701 234 5678", "7012345678"}},
	{"+8613812345678", none, []string{"+86 138 1234 5678", "8613812345678", "0086 138 1234 5678", "+86\u00a0138\u00a01234\u00a05678"}},
	{"+8613812345678", ru, []string{"8613812345678", "+86 138-1234-5678", "810 86 138 1234 5678"}},
	{"+8613812345678", phone.Options{HomeRegion: "CN"}, []string{"138 1234 5678", "13812345678", "+86 13812345678"}},
	{"+821012345678", none, []string{"+82 10-1234-5678", "821012345678", "00 82 10 1234 5678"}},
	{"+821012345678", phone.Options{HomeRegion: "KR"}, []string{"010-1234-5678", "010 1234 5678", "+82 10 1234 5678"}},
	{"+380501234567", none, []string{"+380 50 123 4567", "+38 (050) 123-45-67", "380501234567"}},
	{"+380501234567", phone.Options{HomeRegion: "UA"}, []string{"050 123 45 67", "(050) 123–45–67", "+38 050 123 45 67"}},
	{"+5511987654321", none, []string{"+55 11 98765-4321", "5511987654321", "551187654321", "+55 (11) 8765-4321"}},
	{"+5531987654321", ru, []string{"553187654321", "5531987654321", "+55 31 9 8765-4321"}},
	{"+5511987654321", phone.Options{HomeRegion: "BR"}, []string{"(11) 98765-4321", "011 98765-4321", "0 21 11 98765-4321", "11 8765-4321"}},
}
