package hubfake

// The fake's records. They are the fake's own types, not the client's,
// so a misunderstanding in the client is not mirrored here.

// Owner is a HubSpot owner. ID is what records carry in
// hubspot_owner_id; UserID is the user behind it. Archived owners are
// listed only with archived=true.
type Owner struct {
	ID        string
	UserID    int64
	Email     string
	FirstName string
	LastName  string
	Archived  bool
}

// Pipeline is a deal pipeline; "default" is every account's first one.
type Pipeline struct {
	ID           string
	Label        string
	DisplayOrder int
	Archived     bool
	Stages       []Stage
}

// Stage is a deal stage. Probability is sent as a string ("0.2", "1.0");
// a closed stage of probability "1.0" is won, "0.0" lost.
type Stage struct {
	ID           string
	Label        string
	DisplayOrder int
	Closed       bool
	Probability  string
	Archived     bool
}

// Record is a CRM object (contact, deal, note) with its properties, all
// strings as HubSpot keeps them.
type Record struct {
	ID    string
	Type  string // "contacts", "deals", "notes"
	Props map[string]string
}

// Link is an association between two records, as created (the inverse
// is implied).
type Link struct {
	FromType, FromID string
	ToType, ToID     string
	TypeID           int
}

// Data is an account's starting state.
type Data struct {
	PortalID  int64
	Owners    []Owner
	Pipelines []Pipeline
	Records   []Record
	Links     []Link
}

// Seed returns a demo account: five active owners and an archived one;
// the "default" Sales Pipeline (appointmentscheduled … contractsent,
// closedwon, closedlost) and a "Support" pipeline; one contact, Peter
// Parker (8 (903) 555-01-02), with an open deal in the Sales Pipeline.
func Seed() Data {
	return Data{
		PortalID: 62515,
		Owners: []Owner{
			{ID: "41629779", UserID: 9586504, Email: "bruce@example.com", FirstName: "Bruce", LastName: "Wayne"},
			{ID: "41629780", UserID: 9586505, Email: "tony@example.com", FirstName: "Tony", LastName: "Stark"},
			{ID: "41629781", UserID: 9586506, Email: "scrooge@example.com", FirstName: "Scrooge", LastName: "McDuck"},
			{ID: "41629782", UserID: 9586507, Email: "john@example.com", FirstName: "John", LastName: "Constantine"},
			{ID: "41629783", UserID: 9586508, Email: "diana@example.com", FirstName: "Diana", LastName: "Prince"},
			{ID: "41629784", UserID: 9586509, Email: "selina@example.com", FirstName: "Selina", LastName: "Kyle", Archived: true},
		},
		Pipelines: []Pipeline{
			{ID: "default", Label: "Sales Pipeline", DisplayOrder: 0, Stages: []Stage{
				{ID: "appointmentscheduled", Label: "Appointment Scheduled", DisplayOrder: 0, Probability: "0.2"},
				{ID: "qualifiedtobuy", Label: "Qualified To Buy", DisplayOrder: 1, Probability: "0.4"},
				{ID: "presentationscheduled", Label: "Presentation Scheduled", DisplayOrder: 2, Probability: "0.6"},
				{ID: "decisionmakerboughtin", Label: "Decision Maker Bought-In", DisplayOrder: 3, Probability: "0.8"},
				{ID: "contractsent", Label: "Contract Sent", DisplayOrder: 4, Probability: "0.9"},
				{ID: "closedwon", Label: "Closed Won", DisplayOrder: 5, Closed: true, Probability: "1.0"},
				{ID: "closedlost", Label: "Closed Lost", DisplayOrder: 6, Closed: true, Probability: "0.0"},
			}},
			{ID: "75894512", Label: "Support", DisplayOrder: 1, Stages: []Stage{
				{ID: "75894513", Label: "New request", DisplayOrder: 0, Probability: "0.1"},
				{ID: "75894514", Label: "In progress", DisplayOrder: 1, Probability: "0.5"},
				{ID: "75894515", Label: "Solved", DisplayOrder: 2, Closed: true, Probability: "1.0"},
				{ID: "75894516", Label: "Not solved", DisplayOrder: 3, Closed: true, Probability: "0.0"},
			}},
		},
		Records: []Record{
			{ID: "51", Type: "contacts", Props: map[string]string{"firstname": "Peter", "lastname": "Parker",
				"phone": "8 (903) 555-01-02", "hubspot_owner_id": "41629780"}},
			{ID: "1201", Type: "deals", Props: map[string]string{"dealname": "Peter Parker: camera lens",
				"pipeline": "default", "dealstage": "qualifiedtobuy", "hubspot_owner_id": "41629780"}},
		},
		Links: []Link{{FromType: "deals", FromID: "1201", ToType: "contacts", ToID: "51", TypeID: 3}},
	}
}
