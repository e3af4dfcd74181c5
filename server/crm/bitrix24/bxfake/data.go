package bxfake

// The fake's records. They are the fake's own types, not the client's,
// so a misunderstanding in the client is not mirrored here.

// User is a portal user. Type is USER_TYPE ("employee" when empty;
// "extranet" too).
type User struct {
	ID       int64
	Name     string
	LastName string
	Email    string
	Active   bool
	Type     string
}

// Category is a deal pipeline; id 0 is the default one, which every
// portal has.
type Category struct {
	ID     int64
	Name   string
	Sort   int64
	Stages []Stage
}

// Stage is a pipeline stage. StatusID is unprefixed in category 0
// ("NEW") and "C{n}:"-prefixed in category n ("C1:NEW"); Semantics is "S"
// (won), "F" (lost) or "" (in progress).
type Stage struct {
	StatusID  string
	Name      string
	Sort      int64
	Semantics string
}

// Phone is one value of a contact's PHONE multi-field.
type Phone struct {
	ID        int64
	Value     string
	ValueType string
}

// Contact is a CRM contact.
type Contact struct {
	ID         int64
	Name       string
	LastName   string
	AssignedBy int64
	Phones     []Phone
}

// Deal is a CRM deal.
type Deal struct {
	ID         int64
	Title      string
	CategoryID int64
	StageID    string
	AssignedBy int64
	ContactIDs []int64
}

// Comment is a timeline comment on a deal or contact.
type Comment struct {
	ID         int64
	OwnerType  string // "deal" or "contact"
	OwnerID    int64
	Comment    string
	AuthorID   int64
	CreatedSec int64
}

// Data is a portal's starting state.
type Data struct {
	Domain     string
	MemberID   string
	Users      []User
	Categories []Category
	Contacts   []Contact
	Deals      []Deal
}

// Seed returns a demo portal: five active employees (1 made the webhook)
// and a dismissed one; the default pipeline 0 "General" (NEW, PREPARATION,
// EXECUTING, WON, LOSE) and pipeline 1 "Support" (C1:NEW, C1:EXECUTING,
// C1:WON, C1:LOSE); and one contact, Peter Parker (8 (903) 555-01-02),
// with an open deal in General.
func Seed() Data {
	return Data{
		Domain:   "switchboard-demo.bitrix24.ru",
		MemberID: "a223c6b3710f85df22e9377d6c4f7553",
		Users: []User{
			{ID: 1, Name: "Bruce", LastName: "Wayne", Email: "bruce@example.com", Active: true},
			{ID: 2, Name: "Tony", LastName: "Stark", Email: "tony@example.com", Active: true},
			{ID: 3, Name: "Scrooge", LastName: "McDuck", Email: "scrooge@example.com", Active: true},
			{ID: 4, Name: "John", LastName: "Constantine", Email: "john@example.com", Active: true},
			{ID: 5, Name: "Diana", LastName: "Prince", Email: "diana@example.com", Active: true},
			{ID: 6, Name: "Selina", LastName: "Kyle", Email: "selina@example.com", Active: false},
		},
		Categories: []Category{
			{ID: 0, Name: "General", Sort: 100, Stages: []Stage{
				{StatusID: "NEW", Name: "New", Sort: 10},
				{StatusID: "PREPARATION", Name: "Preparing documents", Sort: 20},
				{StatusID: "EXECUTING", Name: "In progress", Sort: 30},
				{StatusID: "WON", Name: "Deal won", Sort: 40, Semantics: "S"},
				{StatusID: "LOSE", Name: "Deal lost", Sort: 50, Semantics: "F"},
			}},
			{ID: 1, Name: "Support", Sort: 200, Stages: []Stage{
				{StatusID: "C1:NEW", Name: "New request", Sort: 10},
				{StatusID: "C1:EXECUTING", Name: "In progress", Sort: 20},
				{StatusID: "C1:WON", Name: "Solved", Sort: 30, Semantics: "S"},
				{StatusID: "C1:LOSE", Name: "Not solved", Sort: 40, Semantics: "F"},
			}},
		},
		Contacts: []Contact{
			{ID: 1, Name: "Peter", LastName: "Parker", AssignedBy: 2,
				Phones: []Phone{{Value: "8 (903) 555-01-02", ValueType: "MOBILE"}}},
		},
		Deals: []Deal{
			{ID: 1, Title: "Peter Parker: camera lens", CategoryID: 0, StageID: "PREPARATION", AssignedBy: 2, ContactIDs: []int64{1}},
		},
	}
}
