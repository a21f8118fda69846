import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * DefaultMQPullConsumer: fetchSubscribeMessageQueues, pull with tags, NO_NEW_MSG at the end, OFFSET_ILLEGAL past it,
 * NO_MATCHED_MSG, pullBlockIfNotFound woken by a new message, min/max offsets, and updateConsumeOffset persisted on
 * the broker (fetchConsumeOffset from store).
 */
public class PullConsumer {
  public static void main(String[] args) throws Exception {
    Common.begin("PullConsumer", 60);
    String topic = Common.unique("JPull");
    String group = Common.unique("JPullC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = Common.producer(Common.unique("JPullP"));
    for (int i = 0; i < 10; i++) {
      producer.send(new Message(topic, i < 5 ? "X" : "Y", "p" + i, ("pull-" + i).getBytes(StandardCharsets.UTF_8)),
          (mqs, msg, arg) -> mqs.get(0), null);
    }
    DefaultMQPullConsumer c = new DefaultMQPullConsumer(group);
    c.setNamesrvAddr(Common.ns());
    c.setInstanceName(Common.unique("pull"));
    c.start();
    Set<MessageQueue> mqs = c.fetchSubscribeMessageQueues(topic);
    Common.check(mqs.size() == 2, "queues " + mqs);
    MessageQueue q0 = null;
    for (MessageQueue mq : mqs) if (mq.getQueueId() == 0) q0 = mq;
    Common.check(c.minOffset(q0) == 0 && c.maxOffset(q0) == 10, "min/max " + c.minOffset(q0) + "/" + c.maxOffset(q0));
    PullResult all = c.pull(q0, "*", 0, 32);
    Common.check(all.getPullStatus() == PullStatus.FOUND && all.getMsgFoundList().size() == 10, "pull * " + all);
    Common.check(all.getNextBeginOffset() == 10 && all.getMaxOffset() == 10 && all.getMinOffset() == 0, "offsets " + all);
    PullResult ys = c.pull(q0, "Y", 0, 32);
    Common.check(ys.getPullStatus() == PullStatus.FOUND && ys.getMsgFoundList().size() == 5, "pull Y " + ys);
    for (MessageExt m : ys.getMsgFoundList()) Common.check(m.getTags().equals("Y"), "tag " + m.getTags());
    PullResult none = c.pull(q0, "Z", 0, 32);
    Common.note("pull Z: " + none.getPullStatus() + " next " + none.getNextBeginOffset());
    Common.check(none.getPullStatus() == PullStatus.NO_MATCHED_MSG, "pull Z " + none);
    PullResult end = c.pull(q0, "*", 10, 32);
    Common.check(end.getPullStatus() == PullStatus.NO_NEW_MSG && end.getNextBeginOffset() == 10, "at end " + end);
    PullResult past = c.pull(q0, "*", 50, 32);
    Common.note("pull past end: " + past);
    Common.check(past.getPullStatus() == PullStatus.OFFSET_ILLEGAL && past.getNextBeginOffset() == 10, "past end " + past);
    final MessageQueue target = q0;
    new Thread(() -> {
      try {
        Thread.sleep(1000);
        producer.send(new Message(topic, "X", "wake", "w".getBytes()), (qs, msg, arg) -> qs.get(0), null);
      } catch (Exception e) {
        Common.fail("send " + e);
      }
    }).start();
    long t0 = System.currentTimeMillis();
    PullResult blocked = c.pullBlockIfNotFound(target, "*", 10, 32);
    long took = System.currentTimeMillis() - t0;
    Common.check(blocked.getPullStatus() == PullStatus.FOUND && blocked.getMsgFoundList().get(0).getKeys().equals("wake"),
        "pullBlockIfNotFound " + blocked);
    Common.check(took >= 800 && took < 5000, "long poll woke after " + took + " ms");
    c.updateConsumeOffset(q0, 7);
    c.getOffsetStore().persist(q0);
    Thread.sleep(500);
    long stored = c.fetchConsumeOffset(q0, true);
    Common.check(stored == 7, "stored offset " + stored);
    c.shutdown();
    Common.pass("pull/filter/long-poll/offsets; woke after " + took + " ms");
  }
}
