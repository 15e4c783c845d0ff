package dev.unpoll.samples.notifications;

/** A channel's provider: an email API, an SMS gateway, the WhatsApp Business API. */
@FunctionalInterface
public interface Sender {
  /**
   * Sends one notification.
   *
   * @param notification what to send
   * @param idempotencyKey the event's {@code ce_id}: providers that take an idempotency key drop
   *     the second send of a redelivered event (the worker's own effect happens once regardless)
   * @throws Exception when the provider refuses or cannot be reached: the worker retries, then
   *     dead-letters the event to its own dead-letter topic
   */
  void send(Notification notification, String idempotencyKey) throws Exception;

  /** One notification of one video through one channel. */
  record Notification(Channel channel, long videoId, String title, String uploader) {}
}
