import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.client.consumer.PullStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * maxReconsumeTimes=2 and an always-failing listener: 3 deliveries, then the message goes to %DLQ%group (1 queue,
 * readable), where a pull consumer finds it with reconsumeTimes 3, RETRY_TOPIC and the original msgId.
 */
public class DeadLetter {
  public static void main(String[] args) throws Exception {
    Common.begin("DeadLetter", 60);
    String topic = Common.unique("JDlq");
    String group = Common.unique("JDlqC");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    List<MessageExt> deliveries = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer consumer = Common.pushConsumer(group, Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.setMaxReconsumeTimes(2);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      deliveries.addAll(msgs);
      for (MessageExt m : msgs) Common.note("delivery reconsumeTimes " + m.getReconsumeTimes() + " at " + System.currentTimeMillis());
      ctx.setDelayLevelWhenNextConsume(1);
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    });
    consumer.start();
    DefaultMQProducer producer = Common.producer(Common.unique("JDlqP"));
    SendResult sent = producer.send(new Message(topic, "TagD", "dlq-key", "dlq-body".getBytes(StandardCharsets.UTF_8)));
    Common.waitUntil(() -> deliveries.size() >= 3, 20_000, "3 deliveries");
    String dlq = "%DLQ%" + group;
    Common.waitUntil(() -> {
      try {
        return admin.examineTopicRouteInfo(dlq) != null;
      } catch (Exception e) {
        return false;
      }
    }, 40_000, "route of " + dlq);
    TopicRouteData route = admin.examineTopicRouteInfo(dlq);
    Common.note("DLQ route " + route.getQueueDatas());
    Common.check(route.getQueueDatas().get(0).getReadQueueNums() == 1, "DLQ queues " + route.getQueueDatas());
    Common.check((route.getQueueDatas().get(0).getPerm() & 4) != 0, "DLQ readable " + route.getQueueDatas());
    DefaultMQPullConsumer puller = new DefaultMQPullConsumer(Common.unique("JDlqReader"));
    puller.setNamesrvAddr(Common.ns());
    puller.setInstanceName(Common.unique("r"));
    puller.start();
    MessageQueue mq = new MessageQueue(dlq, route.getQueueDatas().get(0).getBrokerName(), 0);
    PullResult pr = puller.pull(mq, "*", 0, 32);
    Common.check(pr.getPullStatus() == PullStatus.FOUND, "DLQ pull " + pr);
    Common.check(pr.getMsgFoundList().size() == 1, "DLQ holds " + pr.getMsgFoundList().size());
    MessageExt dead = pr.getMsgFoundList().get(0);
    Common.note("DLQ message props " + dead.getProperties() + " reconsumeTimes " + dead.getReconsumeTimes());
    Common.check(dead.getReconsumeTimes() == 3, "reconsumeTimes " + dead.getReconsumeTimes());
    Common.check(topic.equals(dead.getProperty("RETRY_TOPIC")), "RETRY_TOPIC");
    Common.check(sent.getMsgId().equals(dead.getProperty("UNIQ_KEY")), "UNIQ_KEY");
    Common.check(sent.getOffsetMsgId().equals(dead.getProperty("ORIGIN_MESSAGE_ID")), "ORIGIN_MESSAGE_ID");
    Common.check("dlq-key".equals(dead.getKeys()) && "TagD".equals(dead.getTags()), "keys/tags");
    Thread.sleep(2500);
    Common.check(deliveries.size() == 3, "deliveries after DLQ " + deliveries.size());
    for (int i = 0; i < 3; i++) Common.check(deliveries.get(i).getReconsumeTimes() == i, "reconsumeTimes " + i);
    Common.pass("3 deliveries, then DLQ");
  }
}
