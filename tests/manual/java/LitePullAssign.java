import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** DefaultLitePullConsumer assign + seek: read one queue from a chosen offset, seekToBegin/End, offsetForTimestamp. */
public class LitePullAssign {
  public static void main(String[] args) throws Exception {
    Common.begin("LitePullAssign", 60);
    String topic = Common.unique("JAssign");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = Common.producer(Common.unique("JAssignP"));
    MessageQueue mq = null;
    long nearNine = 0;
    long nearTen = 0;
    long before = System.currentTimeMillis() - 60_000;
    for (int i = 0; i < 20; i++) {
      if (i == 10) {
        Thread.sleep(30);
        nearNine = System.currentTimeMillis();
        Thread.sleep(400);
        nearTen = System.currentTimeMillis();
        Thread.sleep(30);
      }
      Message m = new Message(topic, "A", "a" + i, ("assign-" + i).getBytes(StandardCharsets.UTF_8));
      SendResult r = producer.send(m, (mqs, msg, arg) -> mqs.get(1), null);
      mq = r.getMessageQueue();
    }
    DefaultLitePullConsumer c = new DefaultLitePullConsumer(Common.unique("JAssignC"));
    c.setNamesrvAddr(Common.ns());
    c.setInstanceName(Common.unique("assign"));
    c.setAutoCommit(false);
    c.start();
    Collection<MessageQueue> queues = c.fetchMessageQueues(topic);
    Common.check(queues.size() == 2, "queues " + queues);
    c.assign(Collections.singletonList(mq));
    c.seek(mq, 15);
    List<String> got = pollKeys(c, 5);
    Common.check(got.equals(List.of("a15", "a16", "a17", "a18", "a19")), "after seek 15: " + got);
    c.seekToBegin(mq);
    got = pollKeys(c, 20);
    Common.check(got.size() == 20 && got.get(0).equals("a0"), "after seekToBegin: " + got);
    // The nearer neighbour in store time; before all: the first; after all: the last.
    long[] at = {c.offsetForTimestamp(mq, nearNine), c.offsetForTimestamp(mq, nearTen),
        c.offsetForTimestamp(mq, before), c.offsetForTimestamp(mq, System.currentTimeMillis() + 60_000)};
    Common.check(java.util.Arrays.equals(at, new long[] {9, 10, 0, 19}), "offsetForTimestamp " + java.util.Arrays.toString(at));
    c.seekToEnd(mq);
    Common.check(c.poll(1000).isEmpty(), "nothing after seekToEnd");
    producer.send(new Message(topic, "A", "late", "x".getBytes()), (mqs, msg, arg) -> mqs.get(1), null);
    got = pollKeys(c, 1);
    Common.check(got.equals(List.of("late")), "after seekToEnd and a new message: " + got);
    c.commitSync();
    Common.pass("seek/seekToBegin/seekToEnd/offsetForTimestamp");
  }

  static List<String> pollKeys(DefaultLitePullConsumer c, int want) {
    List<String> keys = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 10_000;
    while (keys.size() < want && System.currentTimeMillis() < deadline) {
      for (MessageExt m : c.poll(500)) keys.add(m.getKeys());
    }
    return keys;
  }
}
