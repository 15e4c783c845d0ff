package dev.unpoll.consumer;

/** The topic does not exist on the cluster: a name to correct, not a failure to retry. */
public final class TopicNotFoundException extends ConsumerException {
  private static final long serialVersionUID = 1L;

  private final String topic;

  /** Creates the exception for {@code topic}. */
  public TopicNotFoundException(String topic, String message) {
    super(message);
    this.topic = topic;
  }

  /** The topic that does not exist. */
  public String topic() {
    return topic;
  }
}
