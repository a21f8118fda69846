import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * TransactionMQProducer: a committed message is delivered, a rolled-back one never, and an UNKNOW one is resolved by
 * the broker's check-back (CHECK_TRANSACTION_STATE, first check after transactionTimeOut 6 s, every 60 s: so up to
 * about a minute) to commit.
 */
public class Transaction {
  public static void main(String[] args) throws Exception {
    Common.begin("Transaction", 110);
    String topic = Common.unique("JTx");
    DefaultMQAdminExt admin = Common.admin();
    Common.createTopic(admin, topic, 2);
    Set<String> got = ConcurrentHashMap.newKeySet();
    DefaultMQPushConsumer consumer = Common.pushConsumer(Common.unique("JTxC"), Common.unique("c"));
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.subscribe(topic, "*");
    consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
      for (MessageExt m : msgs) got.add(m.getKeys());
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    });
    consumer.start();
    Map<String, Integer> checks = new ConcurrentHashMap<>();
    TransactionMQProducer producer = new TransactionMQProducer(Common.unique("JTxP"));
    producer.setNamesrvAddr(Common.ns());
    producer.setInstanceName(Common.unique("tx"));
    producer.setTransactionListener(new TransactionListener() {
      public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
        switch (msg.getKeys()) {
          case "commit": return LocalTransactionState.COMMIT_MESSAGE;
          case "rollback": return LocalTransactionState.ROLLBACK_MESSAGE;
          default: return LocalTransactionState.UNKNOW;
        }
      }

      public LocalTransactionState checkLocalTransaction(MessageExt msg) {
        checks.merge(msg.getKeys(), 1, Integer::sum);
        return LocalTransactionState.COMMIT_MESSAGE;
      }
    });
    producer.start();
    for (String k : new String[] {"commit", "rollback", "unknown"}) {
      TransactionSendResult r = producer.sendMessageInTransaction(
          new Message(topic, "Tx", k, k.getBytes(StandardCharsets.UTF_8)), null);
      Common.check(r.getSendStatus() == SendStatus.SEND_OK, k + " " + r);
    }
    Common.waitUntil(() -> got.contains("commit"), 15_000, "the committed message");
    long t0 = System.currentTimeMillis();
    Common.waitUntil(() -> got.contains("unknown"), 95_000, "the checked-back message");
    long checkedAfter = System.currentTimeMillis() - t0;
    Thread.sleep(1000);
    Common.check(!got.contains("rollback"), "rolled-back message delivered");
    Common.check(checks.keySet().equals(Set.of("unknown")), "checked " + checks);
    Common.pass("commit delivered, rollback not, unknown checked back after " + checkedAfter / 1000 + " s");
  }
}
