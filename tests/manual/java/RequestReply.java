import java.nio.charset.StandardCharsets;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Request-reply (optional): producer.request() sends with CORRELATION_ID/REPLY_TO_CLIENT; the consumer answers with
 * MessageUtil.createReplyMessage through SEND_REPLY_MESSAGE(_V2) to <cluster>_REPLY_TOPIC, and the broker pushes the
 * reply to the requesting client (PUSH_REPLY_MESSAGE_TO_CLIENT).
 */
public class RequestReply {
  public static void main(String[] args) throws Exception {
    Common.begin("RequestReply", 60);
    String topic = Common.unique("JReq");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    DefaultMQProducer replier = Common.producer(Common.unique("JReplyP"));
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JReqC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) {
        try {
          Message reply = MessageUtil.createReplyMessage(m, ("re:" + new String(m.getBody(), StandardCharsets.UTF_8)).getBytes());
          replier.send(reply, 3000);
        } catch (Exception e) {
          Common.note("reply failed: " + e);
        }
      }
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    DefaultMQProducer requester = Common.producer(Common.unique("JReqP"));
    Thread.sleep(1000);
    Message reply = requester.request(new Message(topic, "Q", "ping".getBytes(StandardCharsets.UTF_8)), 10_000);
    Common.check(reply != null, "no reply");
    Common.check(new String(reply.getBody(), StandardCharsets.UTF_8).equals("re:ping"), "reply body");
    Common.pass("reply " + new String(reply.getBody(), StandardCharsets.UTF_8));
  }
}
