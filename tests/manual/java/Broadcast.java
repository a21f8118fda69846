import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.protocol.heartbeat.MessageModel;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** BROADCASTING: two members of one group each receive every message (offsets kept locally). */
public class Broadcast {
  public static void main(String[] args) throws Exception {
    Common.begin("Broadcast", 60);
    String topic = Common.unique("JBcast");
    String group = Common.unique("JBcastC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 4);
    Set<String> a = ConcurrentHashMap.newKeySet();
    Set<String> b = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer c1 = start(group, topic, "b1", a);
    DefaultMQPushConsumer c2 = start(group, topic, "b2", b);
    Thread.sleep(3000);
    Common.check(c1.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().size() == 4,
        "member 1 queues " + c1.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().keySet());
    Common.check(c2.getDefaultMQPushConsumerImpl().getRebalanceImpl().getProcessQueueTable().size() == 4,
        "member 2 queues");
    DefaultMQProducer producer = Common.producer(Common.unique("JBcastP"));
    int n = 40;
    for (int i = 0; i < n; i++) producer.send(new Message(topic, "B", "k" + i, ("b" + i).getBytes(StandardCharsets.UTF_8)));
    Common.waitUntil(() -> a.size() == n && b.size() == n, 30_000, "both members get " + n + ": " + a.size() + "/" + b.size());
    Common.pass("each member got " + n);
  }

  static DefaultMQPushConsumer start(String group, String topic, String name, Set<String> got) throws Exception {
    DefaultMQPushConsumer c = Common.pushConsumer(group, name);
    c.setMessageModel(MessageModel.BROADCASTING);
    c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    c.subscribe(topic, "*");
    c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.add(m.getKeys());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    c.start();
    return c;
  }
}
