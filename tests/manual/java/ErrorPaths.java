import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * How edge and error cases surface in the Java client: each case prints one normalized RESULT line (value, or the
 * exception class with its response code and message), so runs against two brokers can be diffed. Passes when all
 * cases ran; the diff is the verdict.
 */
public class ErrorPaths {
  static String run;
  static final List<String> out = new ArrayList<>();

  interface Case {
    Object run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Common.begin("ErrorPaths", 90);
    run = Common.unique("E");
    String topic = run + "_T";
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = Common.producer(run + "_P");
    producer.setMaxMessageSize(8 * 1024 * 1024);
    producer.setRetryTimesWhenSendFailed(0);
    DefaultMQPullConsumer puller = new DefaultMQPullConsumer(run + "_R");
    puller.setNamesrvAddr(Common.ns());
    puller.setInstanceName(Common.unique("r"));
    puller.start();
    MessageQueue q0 = new MessageQueue(topic, "broker-a", 0);
    MessageQueue q1 = new MessageQueue(topic, "broker-a", 1);
    MessageQueue q9 = new MessageQueue(topic, "broker-a", 9);

    report("empty queue min/max", () -> puller.minOffset(q0) + "/" + puller.maxOffset(q0));
    report("empty queue earliestMsgStoreTime", () -> puller.earliestMsgStoreTime(q0));
    report("empty queue searchOffset(now)", () -> puller.searchOffset(q0, System.currentTimeMillis()));
    report("empty queue pull 0", () -> pull(puller.pull(q0, "*", 0, 32)));
    report("empty queue pull 5", () -> pull(puller.pull(q0, "*", 5, 32)));
    report("empty queue consume offset", () -> puller.fetchConsumeOffset(q0, true));
    report("send to queue 9 of 2", () -> producer.send(new Message(topic, "x".getBytes()), q9).getSendStatus());
    report("send 5 MiB body", () -> producer.send(new Message(topic, new byte[5 * 1024 * 1024]), q0).getSendStatus());
    report("send 4 MiB body", () -> producer.send(new Message(topic, new byte[4 * 1024 * 1024]), q0).getSendStatus());
    java.util.Random random = new java.util.Random(1);
    byte[] noise = new byte[5 * 1024 * 1024];
    random.nextBytes(noise);
    report("send 5 MiB incompressible body", () -> producer.send(new Message(topic, noise), q0).getSendStatus());
    producer.setCompressMsgBodyOverHowmuch(Integer.MAX_VALUE);
    report("send 4 MiB + 1 uncompressed body", () -> producer.send(new Message(topic, new byte[4 * 1024 * 1024 + 1]), q0).getSendStatus());
    report("send exactly 4 MiB uncompressed body", () -> producer.send(new Message(topic, new byte[4 * 1024 * 1024]), q1).getSendStatus());
    report("send 40000-char property", () -> {
      Message m = new Message(topic, "x".getBytes());
      m.putUserProperty("big", "p".repeat(40_000));
      return producer.send(m, q0).getSendStatus();
    });
    report("send 32000-char property", () -> {
      Message m = new Message(topic, "x".getBytes());
      m.putUserProperty("big", "p".repeat(32_000));
      return producer.send(m, q1).getSendStatus();
    });
    report("send empty-named property", () -> {
      Message m = new Message(topic, "x".getBytes());
      m.putUserProperty("k", "");
      return producer.send(m, q0).getSendStatus();
    });
    SendResult one = producer.send(new Message(topic, "Tag", "key", "one".getBytes(StandardCharsets.UTF_8)), q0);
    report("pull queue 9", () -> pull(puller.pull(q9, "*", 0, 32)));
    report("pull offset -1", () -> pull(puller.pull(q0, "*", -1, 32)));
    report("pull maxNums 0", () -> pull(puller.pull(q0, "*", 0, 0)));
    report("pull bad expression", () -> pull(puller.pull(q0, "a ||| b", 0, 32)));
    report("consume offset after commit -5", () -> {
      puller.updateConsumeOffset(q1, 3);
      puller.getOffsetStore().persist(q1);
      Thread.sleep(300);
      return puller.fetchConsumeOffset(q1, true);
    });
    report("view bad offset id", () -> admin.viewMessage(one.getOffsetMsgId().substring(0, 16) + "00000000FFFFFFFF").getMsgId());
    report("view uniq id as offset id", () -> admin.viewMessage(one.getMsgId()).getTopic());
    report("query no such topic", () -> admin.queryMessage(run + "_Nope", "key", 32, 0, Long.MAX_VALUE).getMessageList().size());
    report("sendMessageBack bad offset", () -> {
      MessageExt fake = new MessageExt();
      fake.setTopic(topic);
      fake.setBody("x".getBytes());
      fake.setCommitLogOffset(987654321L);
      fake.setMsgId("00");
      fake.setStoreHost(new java.net.InetSocketAddress("127.0.0.1", 1));
      puller.sendMessageBack(fake, 1, "broker-a");
      return "ok";
    });
    report("push consumer SQL92", () -> {
      DefaultMQPushConsumer c = Common.pushConsumer(run + "_Sql", Common.unique("s"));
      c.subscribe(topic, MessageSelector.bySql("a > 1"));
      c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> ConsumeConcurrentlyStatus.CONSUME_SUCCESS);
      c.start();
      c.shutdown();
      return "started";
    });
    report("lite pull consumer SQL92", () -> {
      DefaultLitePullConsumer c = new DefaultLitePullConsumer(run + "_LSql");
      c.setNamesrvAddr(Common.ns());
      c.setInstanceName(Common.unique("ls"));
      c.subscribe(topic, MessageSelector.bySql("a > 1"));
      c.start();
      List<MessageExt> got = c.poll(2000);
      c.shutdown();
      return "polled " + got.size();
    });
    // The client checks the broker version it learnt from heartbeats: make sure it has one.
    puller.getDefaultMQPullConsumerImpl().getRebalanceImpl().getmQClientFactory().sendHeartbeatToAllBrokerWithLock();
    report("pull SQL92 via pull consumer", () -> pull(puller.pull(q0, MessageSelector.bySql("a > 1"), 0, 32)));
    for (String line : out) System.out.println("RESULT " + line);
    Common.pass(out.size() + " cases");
  }

  static String pull(PullResult r) {
    return r.getPullStatus() + " next=" + r.getNextBeginOffset() + " min=" + r.getMinOffset() + " max=" + r.getMaxOffset()
        + " n=" + (r.getMsgFoundList() == null ? 0 : r.getMsgFoundList().size());
  }

  static void report(String name, Case c) {
    String result;
    try {
      result = String.valueOf(c.run());
    } catch (MQBrokerException e) {
      result = "MQBrokerException code=" + e.getResponseCode() + " " + e.getErrorMessage();
    } catch (MQClientException e) {
      result = "MQClientException code=" + e.getResponseCode() + " " + e.getErrorMessage();
    } catch (Throwable e) {
      result = e.getClass().getSimpleName() + " " + e.getMessage();
    }
    result = result.replace(run, "RUN").replaceAll("\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+", "ADDR")
        .replaceAll("[0-9A-F]{32}", "<id>").replaceAll("\\s+", " ");
    if (result.length() > 400) result = result.substring(0, 400) + "...";
    out.add(name + ": " + result);
  }
}
