package switchboard.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.function.Supplier;

/**
 * Sends {@code authorization: Bearer <key>} on every call: an account API key
 * ("sbk_…") or an employee token ("sbe_…"). With a supplier the key is read
 * before each call, so a phone can swap its token without a new channel; when
 * it gives null or "", no header is sent (the server answers UNAUTHENTICATED).
 *
 * <pre>{@code
 * ManagedChannel channel = ManagedChannelBuilder.forTarget("switchboard.example.com:443")
 *     .intercept(new BearerAuth(token))
 *     .build();
 * NotificationServiceGrpc.newBlockingStub(channel).subscribe(request);
 * }</pre>
 */
public final class BearerAuth implements ClientInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Supplier<String> key;

  public BearerAuth(String key) {
    this(() -> key);
  }

  public BearerAuth(Supplier<String> key) {
    this.key = key;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<RespT> listener, Metadata headers) {
        String k = key.get();
        if (k != null && !k.isEmpty()) {
          headers.discardAll(AUTHORIZATION);
          headers.put(AUTHORIZATION, "Bearer " + k);
        }
        super.start(listener, headers);
      }
    };
  }
}
