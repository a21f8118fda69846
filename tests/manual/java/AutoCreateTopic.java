import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.protocol.route.QueueData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/** Sending to an unknown topic creates it from TBW102 (autoCreateTopicEnable) with the client's 4 queues. */
public class AutoCreateTopic {
  public static void main(String[] args) throws Exception {
    Common.begin("AutoCreateTopic", 60);
    String topic = Common.unique("JAuto");
    DefaultMQAdminExt admin = Common.admin();
    TopicRouteData tbw = admin.examineTopicRouteInfo("TBW102");
    Common.note("TBW102 route " + tbw.getQueueDatas());
    DefaultMQProducer producer = Common.producer(Common.unique("JAutoP"));
    int n = 8;
    for (int i = 0; i < n; i++) {
      SendResult r = producer.send(new Message(topic, "T", "k" + i, ("auto-" + i).getBytes(StandardCharsets.UTF_8)));
      Common.check(r.getSendStatus() == SendStatus.SEND_OK, "send " + r);
    }
    TopicRouteData route = admin.examineTopicRouteInfo(topic);
    QueueData qd = route.getQueueDatas().get(0);
    Common.note("route " + route.getQueueDatas());
    Common.check(qd.getReadQueueNums() == 4 && qd.getWriteQueueNums() == 4, "queues " + qd);
    Common.check(qd.getPerm() == 6, "perm " + qd.getPerm());
    TopicConfig config = admin.examineTopicConfig(Common.masterAddr(admin), topic);
    Common.check(config.getPerm() == 6 && config.getReadQueueNums() == 4, "topic config " + config);

    Set<String> got = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JAutoC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.add(m.getKeys());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    Common.waitUntil(() -> got.size() == n, 30_000, n + " messages");
    Common.pass("4/4 queues, perm 6, " + n + " consumed");
  }
}
