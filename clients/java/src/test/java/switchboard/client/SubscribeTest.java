package switchboard.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import switchboard.v1.Common.MessageContent;
import switchboard.v1.Directory.ListChannelsRequest;
import switchboard.v1.Directory.ListEmployeesRequest;
import switchboard.v1.DirectoryServiceGrpc;
import switchboard.v1.Notification.NotificationDecision;
import switchboard.v1.Notification.NotificationReason;
import switchboard.v1.Notification.SubscribeRequest;
import switchboard.v1.Notification.SubscribeResponse;
import switchboard.v1.NotificationServiceGrpc;
import switchboard.v1.Routing.AssignResponsibleRequest;
import switchboard.v1.Routing.RouteIncomingMessageRequest;
import switchboard.v1.Routing.RoutingDecision;
import switchboard.v1.RoutingServiceGrpc;

/**
 * The generated gRPC-Java stubs against a real server with demo data
 * (scripts/test.sh starts it): a phone's stream receives the push of a routed
 * message, and a refused token ends the stream with UNAUTHENTICATED. Run with
 * the server's address, the account API key and Bruce Wayne's employee token.
 */
public final class SubscribeTest {
  private static final long WAIT_SECONDS = 30;

  private final String target;
  private final String apiKey;
  private final String employeeToken;
  private final List<String> failures = new ArrayList<>();
  private int passed;

  private SubscribeTest(String target, String apiKey, String employeeToken) {
    this.target = target;
    this.apiKey = apiKey;
    this.employeeToken = employeeToken;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: SubscribeTest HOST:PORT API_KEY EMPLOYEE_TOKEN");
      System.exit(2);
    }
    SubscribeTest t = new SubscribeTest(args[0], args[1], args[2]);
    t.run("a routed message is pushed on the employee's stream", t::routedMessageIsPushed);
    t.run("a refused token ends the stream with UNAUTHENTICATED", t::refusedToken);
    for (String f : t.failures) {
      System.out.println("FAIL " + f);
    }
    System.out.println("java: " + t.passed + " passed, " + t.failures.size() + " failed");
    System.exit(t.failures.isEmpty() ? 0 : 1);
  }

  interface Case {
    void run() throws Exception;
  }

  private void run(String name, Case c) {
    long start = System.nanoTime();
    try {
      c.run();
      passed++;
      System.out.printf("ok   %s (%d ms)%n", name, (System.nanoTime() - start) / 1_000_000);
    } catch (Throwable e) {
      failures.add(name + ": " + e);
      System.out.printf("FAIL %s%n", name);
      e.printStackTrace(System.out);
    }
  }

  private ManagedChannel channel(String key) {
    return ManagedChannelBuilder.forTarget(target).usePlaintext().intercept(new BearerAuth(key)).build();
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError(what);
    }
  }

  /** What a stream observer saw: events, then an error or the end. */
  private static final class Recorder implements StreamObserver<SubscribeResponse> {
    final BlockingQueue<Object> events = new LinkedBlockingQueue<>();

    @Override
    public void onNext(SubscribeResponse r) {
      events.add(r);
    }

    @Override
    public void onError(Throwable t) {
      events.add(t);
    }

    @Override
    public void onCompleted() {
      events.add("completed");
    }

    Object next() throws InterruptedException {
      Object e = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      check(e != null, "nothing on the stream within " + WAIT_SECONDS + " s");
      return e;
    }
  }

  private void routedMessageIsPushed() throws Exception {
    ManagedChannel admin = channel(apiKey);
    ManagedChannel phone = channel(employeeToken);
    try {
      var directory = DirectoryServiceGrpc.newBlockingStub(admin).withDeadlineAfter(10, TimeUnit.SECONDS);
      var routing = RoutingServiceGrpc.newBlockingStub(admin).withDeadlineAfter(10, TimeUnit.SECONDS);
      String whatsapp = directory.listChannels(ListChannelsRequest.getDefaultInstance()).getChannelsList()
          .stream().filter(c -> c.getName().equals("WhatsApp Sales")).findFirst().orElseThrow().getId();
      String bruce = directory.listEmployees(ListEmployeesRequest.getDefaultInstance()).getEmployeesList()
          .stream().filter(e -> e.getName().equals("Bruce Wayne")).findFirst().orElseThrow().getId();

      // Bruce Wayne (whose token the phone holds) becomes the client's
      // responsible, so its next message is pushed to him.
      String sender = "+79160000003";
      RoutingDecision first = routing.routeIncomingMessage(message(whatsapp, sender, "first message")).getDecision();
      if (!first.getClient().getResponsibleEmployeeId().equals(bruce)) {
        routing.assignResponsible(AssignResponsibleRequest.newBuilder()
            .setChatId(first.getChat().getId()).setEmployeeId(bruce).build());
      }

      Recorder stream = new Recorder();
      NotificationServiceGrpc.newStub(phone).subscribe(SubscribeRequest.getDefaultInstance(), stream);
      Object e;
      while (!((e = stream.next()) instanceof SubscribeResponse r && r.hasCaughtUp())) {
        check(e instanceof SubscribeResponse, "the stream ended before catching up: " + e);
      }

      routing.routeIncomingMessage(message(whatsapp, sender, "hello from java"));
      e = stream.next();
      check(e instanceof SubscribeResponse d0 && d0.hasDecision(), "a decision, not " + e);
      NotificationDecision d = ((SubscribeResponse) e).getDecision();
      check(d.getEmployeeId().equals(bruce), "pushed to Bruce Wayne: " + d);
      check(d.getReason() == NotificationReason.NOTIFICATION_REASON_RESPONSIBLE, "as the responsible: " + d);
      check(d.getPreview().equals("hello from java"), "with the message's text: " + d);
      check(d.getChannelName().equals("WhatsApp Sales"), "on its channel: " + d);
      check(!d.getCursor().isEmpty(), "with a cursor");
    } finally {
      admin.shutdownNow();
      phone.shutdownNow();
    }
  }

  private void refusedToken() throws Exception {
    ManagedChannel phone = channel("sbe_not_a_token");
    try {
      Recorder stream = new Recorder();
      NotificationServiceGrpc.newStub(phone).subscribe(SubscribeRequest.getDefaultInstance(), stream);
      Object e = stream.next();
      check(e instanceof Throwable, "an error, not " + e);
      Status s = Status.fromThrowable((Throwable) e);
      check(s.getCode() == Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED, not " + s);
    } finally {
      phone.shutdownNow();
    }
  }

  private static RouteIncomingMessageRequest message(String channel, String phone, String text) {
    return RouteIncomingMessageRequest.newBuilder()
        .setChannelId(channel)
        .setSenderPhone(phone)
        .setSenderName("Java test")
        .setContent(MessageContent.newBuilder().setText(text))
        .setGatewayMessageId("java-" + text.replace(' ', '-') + "-" + System.nanoTime())
        .build();
  }
}
