import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Client namespaces: topics and groups travel as "ns%name" (and "%RETRY%ns%group"), so the broker must accept '%'
 * in names, auto-create such topics and route retries through them; the client strips the namespace on the way back.
 */
public class Namespace {
  public static void main(String[] args) throws Exception {
    Common.begin("Namespace", 60);
    String ns = Common.unique("ns");
    String topic = "NsTopic";
    DefaultMQProducer producer = new DefaultMQProducer(ns, "NsProducer");
    producer.setNamesrvAddr(Common.ns());
    producer.setInstanceName(Common.unique("np"));
    producer.start();
    SendResult r = producer.send(new Message(topic, "T", "nk", "namespaced".getBytes(StandardCharsets.UTF_8)));
    Common.note("sent to " + r.getMessageQueue());
    DefaultMQAdminExt admin = Common.admin();
    Common.check(admin.examineTopicRouteInfo(ns + "%" + topic).getQueueDatas().size() == 1, "route of ns%topic");
    List<MessageExt> got = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(ns, "NsGroup");
    consumer.setNamesrvAddr(Common.ns());
    consumer.setInstanceName(Common.unique("nc"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      got.addAll(msgs);
      if (msgs.get(0).getReconsumeTimes() == 0) {
        ctx.setDelayLevelWhenNextConsume(1);
        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    Common.waitUntil(() -> got.size() >= 2, 20_000, "delivery and retry");
    MessageExt retried = got.get(1);
    Common.check(retried.getReconsumeTimes() == 1, "reconsumeTimes " + retried.getReconsumeTimes());
    Common.check(retried.getTopic().equals(topic), "topic seen " + retried.getTopic());
    Common.check(admin.examineTopicRouteInfo("%RETRY%" + ns + "%NsGroup") != null, "retry topic route");
    Common.pass("ns%topic, %RETRY%ns%group");
  }
}
