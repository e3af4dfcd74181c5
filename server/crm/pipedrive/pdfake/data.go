package pdfake

import "time"

// The fake's records. They are the fake's own types, not the client's,
// so a misunderstanding in the client is not mirrored here.

// User is a company user; Active false is a deactivated one.
type User struct {
	ID          int64
	Name, Email string
	Active      bool
	Admin       bool
}

// Pipeline is a deal pipeline; the lowest OrderNr is the default one.
type Pipeline struct {
	ID      int64
	Name    string
	OrderNr int
	Deleted bool
}

// Stage is a stage of a pipeline.
type Stage struct {
	ID         int64
	PipelineID int64
	Name       string
	OrderNr    int
}

// Phone is one of a person's phones.
type Phone struct {
	Value   string
	Primary bool
	Label   string
}

// Person is a person (a contact).
type Person struct {
	ID      int64
	Name    string
	OwnerID int64
	Phones  []Phone
	// Added is when the person was made through the API (zero for seeded
	// persons).
	Added time.Time
}

// Deal statuses.
const (
	StatusOpen = "open"
	StatusWon  = "won"
	StatusLost = "lost"
)

// Deal is a deal.
type Deal struct {
	ID         int64
	Title      string
	Status     string
	OwnerID    int64
	PersonID   int64
	PipelineID int64
	StageID    int64
	// Added is when the deal was made through the API (zero for seeded
	// deals).
	Added time.Time
}

// Note is a note on a deal or a person; Content is HTML.
type Note struct {
	ID       int64
	Content  string
	DealID   int64
	PersonID int64
	UserID   int64
}

// Data is an account's starting state.
type Data struct {
	Company   string
	Users     []User
	Pipelines []Pipeline
	Stages    []Stage
	Persons   []Person
	Deals     []Deal
}

// Seed returns a demo account: five active users (1 is the admin whose
// token the fake accepts) and a deactivated one (6); pipeline 1 "Sales"
// (the default: stages 1–4) and pipeline 2 "Support" (stages 5–7); one
// person, Peter Parker (1), phone "8 (903) 555-01-02", with an open deal
// (1) in Sales.
func Seed() Data {
	return Data{
		Company: "switchboard-demo",
		Users: []User{
			{ID: 1, Name: "Bruce Wayne", Email: "bruce@example.com", Active: true, Admin: true},
			{ID: 2, Name: "Tony Stark", Email: "tony@example.com", Active: true},
			{ID: 3, Name: "Scrooge McDuck", Email: "scrooge@example.com", Active: true},
			{ID: 4, Name: "John Constantine", Email: "john@example.com", Active: true},
			{ID: 5, Name: "Diana Prince", Email: "diana@example.com", Active: true},
			{ID: 6, Name: "Selina Kyle", Email: "selina@example.com", Active: false},
		},
		Pipelines: []Pipeline{
			{ID: 1, Name: "Sales", OrderNr: 0},
			{ID: 2, Name: "Support", OrderNr: 1},
		},
		Stages: []Stage{
			{ID: 1, PipelineID: 1, Name: "Qualified", OrderNr: 1},
			{ID: 2, PipelineID: 1, Name: "Contact made", OrderNr: 2},
			{ID: 3, PipelineID: 1, Name: "Proposal made", OrderNr: 3},
			{ID: 4, PipelineID: 1, Name: "Negotiations started", OrderNr: 4},
			{ID: 5, PipelineID: 2, Name: "New request", OrderNr: 1},
			{ID: 6, PipelineID: 2, Name: "In progress", OrderNr: 2},
			{ID: 7, PipelineID: 2, Name: "Waiting for the client", OrderNr: 3},
		},
		Persons: []Person{
			{ID: 1, Name: "Peter Parker", OwnerID: 2, Phones: []Phone{{Value: "8 (903) 555-01-02", Primary: true, Label: "mobile"}}},
		},
		Deals: []Deal{
			{ID: 1, Title: "Peter Parker: camera lens", Status: StatusOpen, OwnerID: 2, PersonID: 1, PipelineID: 1, StageID: 2},
		},
	}
}
