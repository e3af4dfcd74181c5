package amofake

// The fake's entities. They are the fake's own records, not the client's
// types, so a misunderstanding in the client is not mirrored here.

// User is an account user.
type User struct {
	ID     int64
	Name   string
	Email  string
	Active bool
	Admin  bool
}

// Pipeline is a lead pipeline. Statuses are its own stages in sort order;
// the fake adds "Incoming leads" (type 1) first and the shared 142 and 143
// last when a seed leaves them out.
type Pipeline struct {
	ID       int64
	Name     string
	Sort     int
	Main     bool
	Statuses []Status
}

// Status is a pipeline stage; Type 1 is "Incoming leads".
type Status struct {
	ID    int64
	Name  string
	Sort  int
	Type  int
	Color string
}

// Phone is one value of a contact's PHONE field.
type Phone struct {
	Value    string
	EnumCode string
}

// Contact is a contact.
type Contact struct {
	ID                int64
	Name              string
	FirstName         string
	LastName          string
	ResponsibleUserID int64
	Phones            []Phone
	CreatedAt         int64
	UpdatedAt         int64
}

// Lead is a lead (deal).
type Lead struct {
	ID                int64
	Name              string
	Price             int64
	PipelineID        int64
	StatusID          int64
	ResponsibleUserID int64
	ContactIDs        []int64
	CreatedAt         int64
	UpdatedAt         int64
	// ClosedAt is set when the lead enters 142 or 143.
	ClosedAt int64
}

// Note is a note on a lead or contact. The CRM does not keep a note's
// request_id, so neither does the fake.
type Note struct {
	ID        int64
	Entity    string // "leads" or "contacts"
	EntityID  int64
	Type      string
	Text      string
	Service   string
	CreatedAt int64
}

// Webhook is a registered webhook destination.
type Webhook struct {
	ID          int64
	Destination string
	Settings    []string
	Sort        int
	Disabled    bool
	CreatedAt   int64
}

// Data is a fake account's starting state.
type Data struct {
	AccountID int64
	Subdomain string
	Users     []User
	Pipelines []Pipeline
	Contacts  []Contact
	Leads     []Lead
}

// Closed statuses every pipeline shares.
const (
	StatusWon  int64 = 142
	StatusLost int64 = 143
)

// Seed returns a demo account: five active users (the first an admin) and
// an inactive one; a main pipeline "Sales" (Incoming leads, First contact,
// Negotiation, 142, 143) and a second pipeline "Support"; and one contact,
// Peter Parker (+7 903 555-01-02), with an open lead in Sales.
func Seed() Data {
	return Data{
		AccountID: 31000001,
		Subdomain: "switchboard-demo",
		Users: []User{
			{ID: 5001, Name: "Bruce Wayne", Email: "bruce@example.com", Active: true, Admin: true},
			{ID: 5002, Name: "Tony Stark", Email: "tony@example.com", Active: true},
			{ID: 5003, Name: "Scrooge McDuck", Email: "scrooge@example.com", Active: true},
			{ID: 5004, Name: "John Constantine", Email: "john@example.com", Active: true},
			{ID: 5005, Name: "Diana Prince", Email: "diana@example.com", Active: true},
			{ID: 5006, Name: "Selina Kyle", Email: "selina@example.com", Active: false},
		},
		Pipelines: []Pipeline{
			{ID: 7001, Name: "Sales", Sort: 1, Main: true, Statuses: []Status{
				{ID: 7101, Name: "Incoming leads", Sort: 10, Type: 1, Color: "#c1c1c1"},
				{ID: 7102, Name: "First contact", Sort: 20, Color: "#99ccff"},
				{ID: 7103, Name: "Negotiation", Sort: 30, Color: "#ffcc66"},
				{ID: StatusWon, Name: "Closed - won", Sort: 10000, Color: "#ccff66"},
				{ID: StatusLost, Name: "Closed - lost", Sort: 11000, Color: "#d5d8db"},
			}},
			{ID: 7002, Name: "Support", Sort: 2, Statuses: []Status{
				{ID: 7201, Name: "Incoming leads", Sort: 10, Type: 1, Color: "#c1c1c1"},
				{ID: 7202, Name: "New request", Sort: 20, Color: "#99ccff"},
				{ID: 7203, Name: "In progress", Sort: 30, Color: "#ffcc66"},
				{ID: StatusWon, Name: "Solved", Sort: 10000, Color: "#ccff66"},
				{ID: StatusLost, Name: "Not solved", Sort: 11000, Color: "#d5d8db"},
			}},
		},
		Contacts: []Contact{
			{ID: 9001, Name: "Peter Parker", FirstName: "Peter", LastName: "Parker", ResponsibleUserID: 5002,
				Phones: []Phone{{Value: "8 (903) 555-01-02", EnumCode: "MOB"}}},
		},
		Leads: []Lead{
			{ID: 8001, Name: "Peter Parker: camera lens", PipelineID: 7001, StatusID: 7102, ResponsibleUserID: 5002,
				ContactIDs: []int64{9001}},
		},
	}
}
