import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** "TagA || TagB" gets TagA and TagB only; a second group on "*" gets everything; tag-less messages too. */
public class TagFilter {
  public static void main(String[] args) throws Exception {
    Common.begin("TagFilter", 60);
    String topic = Common.unique("JTag");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer producer = Common.producer(Common.unique("JTagP"));
    String[] tags = {"TagA", "TagB", "TagC", null, "TagAB", "TagA"};
    for (int i = 0; i < tags.length; i++) {
      Message m = new Message(topic, ("m" + i).getBytes(StandardCharsets.UTF_8));
      if (tags[i] != null) m.setTags(tags[i]);
      m.setKeys("m" + i);
      producer.send(m);
    }
    Map<String, String> ab = new ConcurrentHashMap<>();
    Set<String> all = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer c1 = Common.pushConsumer(Common.unique("JTagAB"), Common.unique("c"));
    c1.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c1.subscribe(topic, "TagA || TagB");
    c1.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) ab.put(m.getKeys(), "" + m.getTags());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c1.start();
    DefaultMQPushConsumer c2 = Common.pushConsumer(Common.unique("JTagAll"), Common.unique("c"));
    c2.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c2.subscribe(topic, "*");
    c2.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) all.add(m.getKeys());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c2.start();
    Common.waitUntil(() -> all.size() == tags.length, 30_000, "all " + tags.length + " on *");
    Common.waitUntil(() -> ab.size() >= 3, 10_000, "3 on TagA || TagB");
    Thread.sleep(2000);
    Common.check(ab.keySet().equals(Set.of("m0", "m1", "m5")), "TagA || TagB got " + ab);
    // A later message wakes a held pull only when it matches.
    producer.send(new Message(topic, "TagC", "late-c", "x".getBytes()));
    producer.send(new Message(topic, "TagB", "late-b", "x".getBytes()));
    Common.waitUntil(() -> ab.containsKey("late-b"), 10_000, "late TagB");
    Common.check(!ab.containsKey("late-c"), "got late TagC");
    Common.pass("filtered " + ab.keySet());
  }
}
