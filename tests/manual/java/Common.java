import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.TopicConfig;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.common.protocol.body.ClusterInfo;
import org.apache.rocketmq.common.protocol.route.BrokerData;
import org.apache.rocketmq.common.protocol.route.TopicRouteData;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

/**
 * Shared helpers for the manual Java-client scenarios: the NameServer address (system property
 * "ns"), unique names, client factories, waiting, and the PASS/FAIL verdict (exit code 0/1).
 */
final class Common {
  private Common() {}

  static String scenario = "?";
  private static final List<String> notes = Collections.synchronizedList(new ArrayList<>());

  /** Names the scenario and arms a watchdog that fails it after timeoutSec. */
  static void begin(String name, int timeoutSec) {
    scenario = name;
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(timeoutSec * 1000L);
      } catch (InterruptedException e) {
        return;
      }
      System.out.println("FAIL " + scenario + ": timed out after " + timeoutSec + " s " + notes);
      System.out.flush();
      Runtime.getRuntime().halt(1);
    });
    watchdog.setDaemon(true);
    watchdog.start();
  }

  static String ns() {
    String ns = System.getProperty("ns", System.getenv("NAMESRV"));
    if (ns == null) throw new IllegalStateException("set -Dns=host:port");
    return ns;
  }

  /** A name unique to this run, so scenarios never meet data of earlier runs on a shared broker. */
  static String unique(String prefix) {
    return prefix + "_" + Long.toString(System.currentTimeMillis(), 36) + (int) (Math.random() * 1000);
  }

  static final long START = System.currentTimeMillis();

  static void note(String text) {
    text = "+" + (System.currentTimeMillis() - START) + "ms " + text;
    notes.add(text);
    if (System.getProperty("verbose") != null) System.out.println("  .. " + text);
  }

  static void check(boolean ok, String what) {
    if (!ok) fail(what);
  }

  static void fail(String why) {
    System.out.println("FAIL " + scenario + ": " + why + (notes.isEmpty() ? "" : " " + notes));
    System.out.flush();
    Runtime.getRuntime().halt(1);
  }

  static void pass(String detail) {
    System.out.println("PASS " + scenario + (detail.isEmpty() ? "" : ": " + detail));
    System.out.flush();
    Runtime.getRuntime().halt(0);
  }

  static void waitUntil(BooleanSupplier condition, long timeoutMs, String what) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) fail("timed out after " + timeoutMs + " ms waiting for " + what);
      Thread.sleep(50);
    }
  }

  static DefaultMQProducer producer(String group) throws Exception {
    DefaultMQProducer p = new DefaultMQProducer(group);
    p.setNamesrvAddr(ns());
    p.setInstanceName(unique("p"));
    p.setVipChannelEnabled(false);
    p.start();
    return p;
  }

  static DefaultMQPushConsumer pushConsumer(String group, String instance) {
    DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
    c.setNamesrvAddr(ns());
    c.setInstanceName(instance);
    c.setVipChannelEnabled(false);
    return c;
  }

  static DefaultMQAdminExt admin() throws Exception {
    DefaultMQAdminExt a = new DefaultMQAdminExt();
    a.setNamesrvAddr(ns());
    a.setInstanceName(unique("admin"));
    a.setVipChannelEnabled(false);
    a.start();
    return a;
  }

  /** The first master of the first cluster the NameServer knows. */
  static String masterAddr(DefaultMQAdminExt admin) throws Exception {
    ClusterInfo info = admin.examineBrokerClusterInfo();
    for (BrokerData data : info.getBrokerAddrTable().values()) {
      String addr = data.getBrokerAddrs().get(0L);
      if (addr != null) return addr;
    }
    throw new IllegalStateException("no master broker registered");
  }

  /** Creates a topic with `queues` read/write queues and waits until its route is served. */
  static void createTopic(DefaultMQAdminExt admin, String topic, int queues) throws Exception {
    TopicConfig config = new TopicConfig(topic, queues, queues, 6);
    admin.createAndUpdateTopicConfig(masterAddr(admin), config);
    waitUntil(() -> {
      try {
        TopicRouteData route = admin.examineTopicRouteInfo(topic);
        return route.getQueueDatas().size() == 1 && route.getQueueDatas().get(0).getReadQueueNums() == queues;
      } catch (Exception e) {
        return false;
      }
    }, 40_000, "route of " + topic);
  }

  static String queueIds(Set<MessageQueue> queues) {
    TreeSet<Integer> ids = new TreeSet<>();
    for (MessageQueue mq : queues) ids.add(mq.getQueueId());
    return ids.toString();
  }
}
