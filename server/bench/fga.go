package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/switchboardhq/switchboard/ent"
	"github.com/switchboardhq/switchboard/ent/channelmember"
	pb "github.com/switchboardhq/switchboard/gen/switchboard/v1"
	"github.com/switchboardhq/switchboard/server/client"
	"github.com/switchboardhq/switchboard/server/ids"
	"github.com/switchboardhq/switchboard/server/tenant"
)

// The access-shape scenario asks CheckAccess the questions an authorization
// service would be asked about the same company, and, when an OpenFGA
// server is given, asks OpenFGA's Check the same questions over the same
// two transports, so both are measured in one run on one machine.
//
// The company: 10 channels ("groups") of 20 members each — 18 sales reps
// who receive new clients by round robin, one quality-control member and
// one manager, all read-write, visibility OWN — and 10,000 chats of routed
// new clients (1,000 per channel). The check stream: for chat k, a member
// of its channel (three in four) or of the next channel (one in four),
// picked so that about one check in six is allowed.
//
// The OpenFGA model states SPEC §3's rows for this company:
//
//	chat#can_view = quality_control from channel
//	              | manager from channel
//	              | (responsible & sales_rep from channel)
//
// OpenFGA answers one relation per Check; CheckAccess answers view, write,
// claim and the deciding rule with its explanation in one call.

// FGAOptions say where OpenFGA listens; empty: measure Switchboard alone.
type FGAOptions struct {
	Options
	// HTTPURL is OpenFGA's HTTP API ("http://127.0.0.1:8080").
	HTTPURL string
	// GRPCURL is OpenFGA's gRPC address as a URL ("http://127.0.0.1:8081").
	GRPCURL string
}

const (
	shapeChannels = 10
	shapeMembers  = 20
	shapeChats    = 10_000
	shapeCallers  = 32
	shapeWarmUp   = 3 * time.Second
)

// shapeProbe is one question: may employee see chat?
type shapeProbe struct {
	employee, chat int64
	allowed        bool // as Switchboard answered it before the run
}

// AccessShape measures CheckAccess over Connect JSON on HTTP/1.1 and gRPC
// on cleartext HTTP/2, and OpenFGA's Check over its HTTP JSON API and gRPC
// when o names it. The results come in pairs per transport.
func AccessShape(ctx context.Context, o FGAOptions) ([]Result, error) {
	st, f, done, err := fixtureWith(ctx, o.Options, shapeChannels, shapeMembers-1)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := reshape(ctx, st.Ent, f); err != nil {
		return nil, err
	}
	srv, err := startServer(st, appOptions())
	if err != nil {
		return nil, err
	}
	defer srv.quit()

	chats, err := routeShape(ctx, srv, f)
	if err != nil {
		return nil, err
	}
	probes := make([]shapeProbe, shapeChats)
	for k, c := range chats {
		ch := c.channel
		if k%4 == 3 {
			ch = (ch + 1) % shapeChannels
		}
		probes[k] = shapeProbe{employee: f.employees[ch][(k*7)%shapeMembers], chat: c.id}
	}
	// What Switchboard answers, once, for the correctness check below.
	h1 := client.New(srv.url, f.key, client.Connect, client.HTTPClient(client.Connect, false), connect.WithProtoJSON())
	allowed := 0
	for i := range probes {
		res, err := h1.Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: ids.Format(probes[i].employee), ChatId: ids.Format(probes[i].chat)})
		if err != nil {
			return nil, err
		}
		probes[i].allowed = res.Access.CanView
		if probes[i].allowed {
			allowed++
		}
	}
	o.Out("access shape: %d channels × %d members, %d chats, %d of %d checks allowed", shapeChannels, shapeMembers, len(chats), allowed, len(probes))

	var fga *openFGA
	if o.HTTPURL != "" {
		if fga, err = newOpenFGA(ctx, o.HTTPURL, o.GRPCURL); err != nil {
			return nil, err
		}
		if err := fga.load(ctx, f, chats); err != nil {
			return nil, err
		}
		// The same answers, or the comparison means nothing.
		for _, p := range probes {
			got, err := fga.checkHTTP(ctx, p)
			if err != nil {
				return nil, err
			}
			if got != p.allowed {
				return nil, fmt.Errorf("OpenFGA says %v for employee %d on chat %d, Switchboard %v", got, p.employee, p.chat, p.allowed)
			}
		}
		o.Out("access shape: OpenFGA agrees on all %d checks", len(probes))
	}

	probe := func(caller, i int) shapeProbe { return probes[(caller*7919+i)%len(probes)] }
	var out []Result
	// Each side is called for a while before it is measured, so both are
	// measured warm: caches filled, connections open.
	measure := func(name string, f op) Result {
		run(ctx, name, shapeCallers, min(o.Duration, shapeWarmUp), f)
		return run(ctx, name, shapeCallers, o.Duration, f)
	}
	var seen, seenRead uint64
	// measureSB also counts, for the measured part, the checks that read
	// the database.
	measureSB := func(name string, f op) Result {
		run(ctx, name, shapeCallers, min(o.Duration, shapeWarmUp), f)
		seen, seenRead = srv.app.AccessCacheStats()
		return run(ctx, name, shapeCallers, o.Duration, f)
	}
	report := func(r Result) {
		out = append(out, r)
		line := fmt.Sprintf("%-40s %8.0f checks/s  p50 %s  p99 %s", r.Name, r.Rate(), ms(r.P50), ms(r.P99))
		if strings.HasPrefix(r.Name, "Switchboard") {
			answered, read := srv.app.AccessCacheStats()
			line += fmt.Sprintf("  (%.1f %% read the database)", 100*float64(read-seenRead)/float64(max(1, answered+read-seen-seenRead)))
		}
		o.Out("%s", line)
	}
	// HTTP/1.1 JSON: one connection per caller, as curl-like integrators use.
	h1s := make([]*client.Clients, shapeCallers)
	for i := range h1s {
		h1s[i] = client.New(srv.url, f.key, client.Connect, client.HTTPClient(client.Connect, false), connect.WithProtoJSON())
	}
	report(measureSB("Switchboard CheckAccess, HTTP/1.1 JSON", func(ctx context.Context, caller, i int) error {
		p := probe(caller, i)
		return checkSame(h1s[caller].Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: ids.Format(p.employee), ChatId: ids.Format(p.chat)}))(p)
	}))
	if fga != nil {
		report(measure("OpenFGA Check, HTTP/1.1 JSON", func(ctx context.Context, caller, i int) error {
			p := probe(caller, i)
			got, err := fga.checkHTTP(ctx, p)
			return same(got, err, p)
		}))
	}
	// gRPC over h2c, binary: callersPerConn callers share a connection.
	h2 := make([]*client.Clients, shapeCallers/callersPerConn)
	for i := range h2 {
		h2[i] = client.New(srv.url, f.key, client.GRPC, client.HTTPClient(client.GRPC, true))
	}
	report(measureSB("Switchboard CheckAccess, gRPC h2c", func(ctx context.Context, caller, i int) error {
		p := probe(caller, i)
		return checkSame(h2[caller/callersPerConn].Routing.CheckAccess(ctx, &pb.CheckAccessRequest{EmployeeId: ids.Format(p.employee), ChatId: ids.Format(p.chat)}))(p)
	}))
	if fga != nil && o.GRPCURL != "" {
		report(measure("OpenFGA Check, gRPC h2c", func(ctx context.Context, caller, i int) error {
			p := probe(caller, i)
			got, err := fga.checkGRPC(ctx, caller/callersPerConn, p)
			return same(got, err, p)
		}))
	}
	if fga != nil {
		for i := 0; i+1 < len(out); i += 2 {
			o.Out("access shape: %s is %.1f× %s", out[i].Name, out[i].Rate()/out[i+1].Rate(), out[i+1].Name)
		}
	}
	return out, nil
}

// checkSame turns a CheckAccess answer into a check of the probe.
func checkSame(res *pb.CheckAccessResponse, err error) func(shapeProbe) error {
	return func(p shapeProbe) error {
		if err != nil {
			return err
		}
		return same(res.Access.CanView, nil, p)
	}
}

func same(got bool, err error, p shapeProbe) error {
	if err != nil {
		return err
	}
	if got != p.allowed {
		return fmt.Errorf("employee %d on chat %d: %v, expected %v", p.employee, p.chat, got, p.allowed)
	}
	return nil
}

// reshape gives each fixture channel 18 sales reps, one quality-control
// member and its manager (newFixture made 19 reps and the manager).
func reshape(ctx context.Context, c *ent.Client, f *fixture) error {
	actx := tenant.NewContext(ctx, f.accountID)
	tx, err := c.Tx(actx)
	if err != nil {
		return err
	}
	for i, ch := range f.channels {
		qc := f.employees[i][shapeMembers-2]
		err := tx.ChannelMember.Update().Where(channelmember.ChannelID(ch), channelmember.EmployeeID(qc)).
			SetRole(channelmember.RoleQUALITY_CONTROL).SetReceivesNewClients(false).Exec(actx)
		if err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

type shapeChat struct {
	id, responsible int64
	channel         int // index in the fixture
}

// routeShape routes shapeChats new clients, the same number per channel.
func routeShape(ctx context.Context, srv *server, f *fixture) ([]shapeChat, error) {
	out := make([]shapeChat, shapeChats)
	cs := srv.pool(f.key, 16)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= shapeChats {
					return
				}
				ch := k % shapeChannels
				res, err := cs[w/callersPerConn].Routing.RouteIncomingMessage(ctx, &pb.RouteIncomingMessageRequest{
					ChannelId: ids.Format(f.channels[ch]), Sender: &pb.RouteIncomingMessageRequest_SenderPhone{SenderPhone: nextPhone()},
					Content: &pb.MessageContent{Text: "hi"}, GatewayMessageId: fmt.Sprintf("shape-%d", k)})
				if err != nil {
					errs <- err
					return
				}
				d := res.Decision
				out[k] = shapeChat{id: ids.Value(d.Chat.Id), responsible: ids.Value(d.Assignment.ResponsibleEmployeeId), channel: ch}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, nil
}

// openFGA is a store with the access model on an OpenFGA server.
type openFGA struct {
	http          *http.Client
	base, storeID string
	modelID       string
	grpc          []*connect.Client[rawMessage, rawMessage]
}

func newOpenFGA(ctx context.Context, httpURL, grpcURL string) (*openFGA, error) {
	f := &openFGA{http: client.HTTPClient(client.Connect, false), base: strings.TrimSuffix(httpURL, "/")}
	f.http.Transport.(*http.Transport).MaxIdleConnsPerHost = shapeCallers
	var st struct {
		ID string `json:"id"`
	}
	if err := f.post(ctx, "/stores", map[string]any{"name": "switchboard-access-shape"}, &st); err != nil {
		return nil, fmt.Errorf("OpenFGA at %s: %w", httpURL, err)
	}
	f.storeID = st.ID
	var m struct {
		ID string `json:"authorization_model_id"`
	}
	if err := f.post(ctx, "/stores/"+f.storeID+"/authorization-models", fgaModel(), &m); err != nil {
		return nil, err
	}
	f.modelID = m.ID
	if grpcURL != "" {
		for i := 0; i < shapeCallers/callersPerConn; i++ {
			f.grpc = append(f.grpc, connect.NewClient[rawMessage, rawMessage](client.HTTPClient(client.GRPC, true),
				strings.TrimSuffix(grpcURL, "/")+"/openfga.v1.OpenFGAService/Check", connect.WithGRPC(), connect.WithCodec(rawCodec{})))
		}
	}
	return f, nil
}

// fgaModel is the authorization model (schema 1.1, JSON form).
func fgaModel() map[string]any {
	direct := map[string]any{"this": map[string]any{}}
	from := func(rel string) map[string]any {
		return map[string]any{"tupleToUserset": map[string]any{
			"tupleset":        map[string]any{"relation": "channel"},
			"computedUserset": map[string]any{"relation": rel}}}
	}
	typed := func(t string) map[string]any {
		return map[string]any{"directly_related_user_types": []any{map[string]any{"type": t}}}
	}
	return map[string]any{
		"schema_version": "1.1",
		"type_definitions": []any{
			map[string]any{"type": "employee"},
			map[string]any{"type": "channel",
				"relations": map[string]any{"sales_rep": direct, "manager": direct, "quality_control": direct},
				"metadata": map[string]any{"relations": map[string]any{
					"sales_rep": typed("employee"), "manager": typed("employee"), "quality_control": typed("employee")}}},
			map[string]any{"type": "chat",
				"relations": map[string]any{
					"channel":     direct,
					"responsible": direct,
					"can_view": map[string]any{"union": map[string]any{"child": []any{
						from("quality_control"),
						from("manager"),
						map[string]any{"intersection": map[string]any{"child": []any{
							map[string]any{"computedUserset": map[string]any{"relation": "responsible"}},
							from("sales_rep")}}},
					}}},
				},
				"metadata": map[string]any{"relations": map[string]any{
					"channel": typed("channel"), "responsible": typed("employee")}}},
		},
	}
}

// load writes the company as tuples, 100 per request (OpenFGA's default
// limit per write).
func (f *openFGA) load(ctx context.Context, fx *fixture, chats []shapeChat) error {
	type tk struct {
		User     string `json:"user"`
		Relation string `json:"relation"`
		Object   string `json:"object"`
	}
	var tuples []tk
	roles := []string{"sales_rep", "quality_control", "manager"}
	for i, ch := range fx.channels {
		for j, e := range fx.employees[i] {
			role := roles[0]
			switch j {
			case shapeMembers - 2:
				role = roles[1]
			case shapeMembers - 1:
				role = roles[2]
			}
			tuples = append(tuples, tk{fmt.Sprintf("employee:%d", e), role, fmt.Sprintf("channel:%d", ch)})
		}
	}
	for _, c := range chats {
		tuples = append(tuples,
			tk{fmt.Sprintf("channel:%d", fx.channels[c.channel]), "channel", fmt.Sprintf("chat:%d", c.id)},
			tk{fmt.Sprintf("employee:%d", c.responsible), "responsible", fmt.Sprintf("chat:%d", c.id)})
	}
	for len(tuples) > 0 {
		n := min(100, len(tuples))
		body := map[string]any{"authorization_model_id": f.modelID, "writes": map[string]any{"tuple_keys": tuples[:n]}}
		if err := f.post(ctx, "/stores/"+f.storeID+"/write", body, nil); err != nil {
			return err
		}
		tuples = tuples[n:]
	}
	return nil
}

func (f *openFGA) checkHTTP(ctx context.Context, p shapeProbe) (bool, error) {
	var res struct {
		Allowed bool `json:"allowed"`
	}
	err := f.post(ctx, "/stores/"+f.storeID+"/check", map[string]any{
		"authorization_model_id": f.modelID,
		"tuple_key":              map[string]string{"user": fmt.Sprintf("employee:%d", p.employee), "relation": "can_view", "object": fmt.Sprintf("chat:%d", p.chat)},
	}, &res)
	return res.Allowed, err
}

// checkGRPC calls openfga.v1.OpenFGAService/Check with a hand-encoded
// CheckRequest {store_id=1, tuple_key=2 {user=1, relation=2, object=3},
// authorization_model_id=4} and reads CheckResponse.allowed (field 1).
func (f *openFGA) checkGRPC(ctx context.Context, conn int, p shapeProbe) (bool, error) {
	var key []byte
	key = protowire.AppendTag(key, 1, protowire.BytesType)
	key = protowire.AppendString(key, fmt.Sprintf("employee:%d", p.employee))
	key = protowire.AppendTag(key, 2, protowire.BytesType)
	key = protowire.AppendString(key, "can_view")
	key = protowire.AppendTag(key, 3, protowire.BytesType)
	key = protowire.AppendString(key, fmt.Sprintf("chat:%d", p.chat))
	var req []byte
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendString(req, f.storeID)
	req = protowire.AppendTag(req, 2, protowire.BytesType)
	req = protowire.AppendBytes(req, key)
	req = protowire.AppendTag(req, 4, protowire.BytesType)
	req = protowire.AppendString(req, f.modelID)
	res, err := f.grpc[conn].CallUnary(ctx, connect.NewRequest(&rawMessage{b: req}))
	if err != nil {
		return false, err
	}
	b := res.Msg.b
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return false, protowire.ParseError(n)
			}
			return v != 0, nil
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return false, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return false, nil
}

func (f *openFGA) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := f.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("OpenFGA %s: HTTP %d: %s", path, res.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// rawMessage is a protobuf message already encoded, for calling a gRPC
// service without its generated code.
type rawMessage struct{ b []byte }

type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(m any) ([]byte, error) {
	r, ok := m.(*rawMessage)
	if !ok {
		return nil, errors.New("rawCodec: not a rawMessage")
	}
	return r.b, nil
}

func (rawCodec) Unmarshal(b []byte, m any) error {
	r, ok := m.(*rawMessage)
	if !ok {
		return errors.New("rawCodec: not a rawMessage")
	}
	r.b = append(r.b[:0], b...)
	return nil
}
