// SPDX-License-Identifier: MIT
// The Kafka transport plug-in: CloudEvents produced to a Kafka topic through librdkafka, with acks=all and the
// idempotent producer, each event `sent` once its delivery report says every in-sync replica has it. Binary mode
// carries each attribute as a `ce_<name>` header (UTF-8) and datacontenttype as the `content-type` header, the
// data as the value (the CloudEvents Kafka binding); structured mode sends the whole event as JSON with
// content-type application/cloudevents+json. The ordering key is the message key, so one key's events share a
// partition (and keep their order there).
// Target: kafka://[user@]host[:9092]/TOPIC[?bootstrap=host2:9092,host3:9092], kafkas:// for TLS. With a user:
// SASL (SASL_PLAINTEXT, or SASL_SSL on kafkas://), the password from ?password-file= (the engine reads it), the
// mechanism ?sasl-mechanism= SCRAM-SHA-512 (the default: the password never crosses the wire), SCRAM-SHA-256 or
// PLAIN.
//
// librdkafka serves delivery reports and errors only from rd_kafka_poll(), which this plug-in calls on its own
// (the relayer's) thread whenever librdkafka signals its queue through a pipe: no callback runs elsewhere.

#include "brokeracks.h"
#include "brokerurl.h"
#include "transportplugin.h"

#include <QHash>
#include <QObject>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSocketNotifier>
#include <QTimer>
#include <QUrlQuery>

#include <librdkafka/rdkafka.h>

#include <fcntl.h>
#include <unistd.h>

#include <memory>

namespace outbox {
namespace {

QString topicOf(const QUrl &url)
{
    return url.path(QUrl::FullyDecoded).mid(1);
}

bool isTls(const QUrl &url)
{
    return url.scheme().compare(QLatin1String("kafkas"), Qt::CaseInsensitive) == 0;
}

// host:port of the URL, then those of ?bootstrap= (comma-separated).
QString bootstrapServers(const QUrl &url)
{
    QString servers = QStringLiteral("%1:%2").arg(url.host()).arg(url.port(9092));
    const QString more = QUrlQuery(url).queryItemValue(QStringLiteral("bootstrap"), QUrl::FullyDecoded);
    if (!more.isEmpty())
        servers += QLatin1Char(',') + more;
    return servers;
}

const QStringList &saslMechanisms()
{
    static const QStringList mechanisms{
        QStringLiteral("SCRAM-SHA-512"), QStringLiteral("SCRAM-SHA-256"), QStringLiteral("PLAIN")};
    return mechanisms;
}

// The URL's SASL mechanism (upper case), the default when it names none.
QString saslMechanismOf(const QUrl &url)
{
    const QString named = QUrlQuery(url).queryItemValue(QStringLiteral("sasl-mechanism")).toUpper();
    return named.isEmpty() ? saslMechanisms().first() : named;
}

QString text(rd_kafka_resp_err_t err)
{
    return QString::fromUtf8(rd_kafka_err2str(err));
}

// One librdkafka client whose main queue (delivery reports, errors; a consumer's messages when it is one)
// is served on this object's thread when librdkafka writes to the pipe.
class KafkaClient : public QObject
{
public:
    explicit KafkaClient(const QUrl &url) : m_url(url), m_where(bootstrapServers(url)) { }
    ~KafkaClient() override { closePipe(); }

    // The common settings; false and why when librdkafka refuses one.
    bool configure(rd_kafka_conf_t *conf, const BrokerOptions &options, const QString &role, QString *error)
    {
        const QByteArray clientId = QStringLiteral("outbox-%1-%2").arg(role, options.clientName.left(40)).toUtf8();
        QList<std::pair<QByteArray, QByteArray>> settings{
            {"bootstrap.servers", m_where.toUtf8()},
            {"client.id", clientId},
            {"reconnect.backoff.max.ms", "2000"},
        };
        const bool sasl = !m_url.userName().isEmpty();
        if (sasl) {
            settings << std::pair{QByteArray("security.protocol"),
                QByteArray(isTls(m_url) ? "sasl_ssl" : "sasl_plaintext")}
                     << std::pair{QByteArray("sasl.mechanisms"), saslMechanismOf(m_url).toUtf8()}
                     << std::pair{QByteArray("sasl.username"), m_url.userName().toUtf8()}
                     << std::pair{QByteArray("sasl.password"), options.password.toUtf8()};
        }
        if (isTls(m_url)) {
            if (!sasl)
                settings.append({QByteArray("security.protocol"), QByteArray("ssl")});
            if (!options.caFile.isEmpty())
                settings.append({"ssl.ca.location", options.caFile.toLocal8Bit()});
            if (!options.clientCertificateFile.isEmpty())
                settings.append({"ssl.certificate.location", options.clientCertificateFile.toLocal8Bit()});
            if (!options.clientKeyFile.isEmpty())
                settings.append({"ssl.key.location", options.clientKeyFile.toLocal8Bit()});
        }
        return set(conf, settings, error);
    }

    static bool set(rd_kafka_conf_t *conf, const QList<std::pair<QByteArray, QByteArray>> &settings, QString *error)
    {
        char why[512];
        for (const auto &[name, value] : settings) {
            if (rd_kafka_conf_set(conf, name.constData(), value.constData(), why, sizeof why) != RD_KAFKA_CONF_OK) {
                *error = QStringLiteral("Kafka setting %1: %2").arg(QString::fromUtf8(name), QString::fromUtf8(why));
                return false;
            }
        }
        return true;
    }

protected:
    // Makes the client (taking `conf`) and starts serving its queue (a consumer's, or the main one).
    bool start(rd_kafka_type_t type, rd_kafka_conf_t *conf, QString *error)
    {
        rd_kafka_conf_set_opaque(conf, this);
        rd_kafka_conf_set_error_cb(conf, &KafkaClient::onError);
        // librdkafka's own log lines stay out of the program's stderr: what matters comes back as an outcome
        // (the delivery report) or through the error callback.
        rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t *, int, const char *, const char *) {});
        char why[512];
        m_rk = rd_kafka_new(type, conf, why, sizeof why);
        if (!m_rk) {
            rd_kafka_conf_destroy(conf);
            *error = QStringLiteral("cannot make a Kafka client for %1: %2").arg(m_where, QString::fromUtf8(why));
            return false;
        }
        if (pipe2(m_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
            *error = QStringLiteral("cannot make a pipe: %1").arg(QString::fromLocal8Bit(strerror(errno)));
            return false;
        }
        m_queue = type == RD_KAFKA_CONSUMER ? rd_kafka_queue_get_consumer(m_rk) : rd_kafka_queue_get_main(m_rk);
        rd_kafka_queue_io_event_enable(m_queue, m_pipe[1], "1", 1);
        m_notifier = std::make_unique<QSocketNotifier>(m_pipe[0], QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, this, [this] { serve(); });
        // Also now and then: an event librdkafka queued while the queue was already non-empty writes nothing.
        m_timer.setInterval(100);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] { serve(); });
        m_timer.start();
        return true;
    }

    // Serves what librdkafka has queued for this thread.
    virtual void serveQueue() = 0;

    void serve()
    {
        char drain[64];
        while (read(m_pipe[0], drain, sizeof drain) > 0) { }
        if (m_rk)
            serveQueue();
    }

    void stopServing()
    {
        m_timer.stop();
        m_notifier.reset();
        if (m_queue) {
            rd_kafka_queue_io_event_enable(m_queue, -1, nullptr, 0);
            rd_kafka_queue_destroy(m_queue);
            m_queue = nullptr;
        }
    }

    void closePipe()
    {
        for (int &fd : m_pipe) {
            if (fd >= 0)
                ::close(fd);
            fd = -1;
        }
    }

    // Called on this thread (from rd_kafka_poll): errors of the client as a whole.
    virtual void clientError(rd_kafka_resp_err_t err, const QString &why)
    {
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
            m_allDown = true;
        m_lastError = why;
    }

    QUrl m_url;
    QString m_where;
    rd_kafka_t *m_rk = nullptr;
    rd_kafka_queue_t *m_queue = nullptr;
    bool m_allDown = false;
    QString m_lastError = QStringLiteral("not connected yet");

private:
    static void onError(rd_kafka_t *, int err, const char *reason, void *opaque)
    {
        static_cast<KafkaClient *>(opaque)->clientError(
            rd_kafka_resp_err_t(err), QString::fromUtf8(reason ? reason : rd_kafka_err2str(rd_kafka_resp_err_t(err))));
    }

    int m_pipe[2] = {-1, -1};
    std::unique_ptr<QSocketNotifier> m_notifier;
    QTimer m_timer;
};

// Produces with acks=all and idempotence; an event is sent on its delivery report.
class KafkaPublisher final : public KafkaClient, public BrokerPublisher
{
public:
    KafkaPublisher(const QUrl &target, const BrokerOptions &) : KafkaClient(target), m_topic(topicOf(target).toUtf8())
    { }
    ~KafkaPublisher() override
    {
        m_closing = true; // what librdkafka reports while closing (purged messages) goes nowhere
        if (m_rk) {
            rd_kafka_purge(m_rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_poll(m_rk, 0);
        }
        stopServing();
        if (m_rk)
            rd_kafka_destroy(m_rk);
    }

    bool open(const BrokerOptions &options, QString *error)
    {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const QByteArray timeout = QByteArray::number(qMax(1000, options.timeoutMs));
        if (!configure(conf, options, QStringLiteral("pub"), error)
            || !set(conf,
                {{"acks", "all"}, {"enable.idempotence", "true"}, {"message.timeout.ms", timeout}, {"linger.ms", "2"}},
                error)) {
            rd_kafka_conf_destroy(conf);
            return false;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, &KafkaPublisher::onDelivery);
        return start(RD_KAFKA_PRODUCER, conf, error);
    }

    void publish(const QList<BrokerMessage> &messages, const AckHandler &handler) override
    {
        const auto shared = std::make_shared<const AckHandler>(handler);
        QList<BrokerAck> refused;
        for (const BrokerMessage &m : messages) {
            rd_kafka_headers_t *headers = rd_kafka_headers_new(m.attributes.size() + 1);
            if (m.structured) {
                const QByteArray ct = m.contentType.toUtf8();
                rd_kafka_header_add(headers, "content-type", -1, ct.constData(), ct.size());
            } else {
                for (const auto &[name, value] : m.attributes) {
                    const QByteArray n = "ce_" + name.toUtf8(), v = value.toUtf8();
                    rd_kafka_header_add(headers, n.constData(), n.size(), v.constData(), v.size());
                }
                if (!m.contentType.isEmpty()) {
                    const QByteArray ct = m.contentType.toUtf8();
                    rd_kafka_header_add(headers, "content-type", -1, ct.constData(), ct.size());
                }
            }
            const qint64 token = ++m_lastToken;
            const QByteArray key = m.orderingKey.toUtf8();
            const rd_kafka_resp_err_t err =
                rd_kafka_producev(m_rk, RD_KAFKA_V_TOPIC(m_topic.constData()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(const_cast<char *>(m.body.constData()), size_t(m.body.size())),
                    RD_KAFKA_V_KEY(key.isEmpty() ? nullptr : key.constData(), size_t(key.size())),
                    RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(reinterpret_cast<void *>(token)), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                m_inFlight.insert(token, Pending{m.sequence, shared});
                continue;
            }
            rd_kafka_headers_destroy(headers);
            const QString why = QStringLiteral("Kafka producer for %1 refused the message: %2").arg(m_where, text(err));
            // A full local queue passes; a message too large or a topic that cannot exist does not.
            const bool passing = err == RD_KAFKA_RESP_ERR__QUEUE_FULL;
            refused.append(
                BrokerAck{m.sequence, passing ? BrokerAck::Kind::Retry : BrokerAck::Kind::Failed, why, false});
        }
        if (!refused.isEmpty())
            QMetaObject::invokeMethod(
                this, [shared, refused] { (*shared)(refused); }, Qt::QueuedConnection);
        // No rd_kafka_poll() here: the reports it served would wait for the next pass of serve().
    }

    int inFlight() const override { return int(m_inFlight.size()); }

private:
    using Handler = AckOutbox::Handler;
    struct Pending
    {
        qint64 sequence = 0;
        Handler handler;
    };

    void serveQueue() override
    {
        while (rd_kafka_poll(m_rk, 0) > 0) { }
        m_acks.flush(); // the reports of this pass, together by publish() call
    }

    static void onDelivery(rd_kafka_t *, const rd_kafka_message_t *m, void *opaque)
    {
        auto *p = static_cast<KafkaPublisher *>(static_cast<KafkaClient *>(opaque));
        if (p->m_closing)
            return;
        const auto it = p->m_inFlight.find(reinterpret_cast<qint64>(m->_private));
        if (it == p->m_inFlight.end())
            return;
        const Pending pending = *it;
        p->m_inFlight.erase(it);
        BrokerAck ack{pending.sequence, BrokerAck::Kind::Sent, {}, false};
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            p->m_allDown = false;
        } else {
            const QString why = QStringLiteral("Kafka at %1: %2").arg(p->m_where, text(m->err));
            switch (m->err) {
            case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
            case RD_KAFKA_RESP_ERR_INVALID_RECORD:
            case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
            case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
            case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
                ack = BrokerAck{pending.sequence, BrokerAck::Kind::Failed, why, false};
                break;
            default:
                // Timed out, a lost connection, leaders moving, replicas missing: worth another attempt; with no
                // broker reachable, the broker is unavailable (the relayer holds the events, not charged).
                ack = BrokerAck{pending.sequence, BrokerAck::Kind::Retry,
                    p->m_allDown ? why + QStringLiteral(" (") + p->m_lastError + QStringLiteral(")") : why,
                    p->m_allDown};
                break;
            }
        }
        p->m_acks.add(pending.handler, ack);
    }

    QByteArray m_topic;
    qint64 m_lastToken = 0;
    QHash<qint64, Pending> m_inFlight; // by the token librdkafka hands back with the report
    AckOutbox m_acks{this};
    bool m_closing = false;
};

// A consumer of its own group (new messages only), the ce_ headers read back as the attributes.
class KafkaSubscriber final : public KafkaClient, public BrokerSubscriber
{
public:
    KafkaSubscriber(const QUrl &source, MessageHandler onMessage)
        : KafkaClient(source), m_topic(topicOf(source).toUtf8()), m_onMessage(std::move(onMessage))
    { }
    ~KafkaSubscriber() override
    {
        stopServing();
        if (m_rk) {
            rd_kafka_consumer_close(m_rk);
            rd_kafka_destroy(m_rk);
        }
    }

    bool open(const BrokerOptions &options, QString *error)
    {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const QByteArray group = QStringLiteral("outbox-receive-%1")
                                     .arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'))
                                     .toUtf8();
        if (!configure(conf, options, QStringLiteral("sub"), error)
            || !set(
                conf, {{"group.id", group}, {"auto.offset.reset", "latest"}, {"enable.auto.commit", "false"}}, error)) {
            rd_kafka_conf_destroy(conf);
            return false;
        }
        if (!start(RD_KAFKA_CONSUMER, conf, error))
            return false;
        rd_kafka_poll_set_consumer(m_rk);
        rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, m_topic.constData(), RD_KAFKA_PARTITION_UA);
        const rd_kafka_resp_err_t err = rd_kafka_subscribe(m_rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            *error =
                QStringLiteral("cannot subscribe to %1 at %2: %3").arg(QString::fromUtf8(m_topic), m_where, text(err));
            return false;
        }
        return true;
    }

    QString state() const override
    {
        return m_allDown ? QStringLiteral("Kafka at %1: %2").arg(m_where, m_lastError)
                         : QStringLiteral("subscribed to %1 at %2").arg(QString::fromUtf8(m_topic), m_where);
    }

private:
    void serveQueue() override
    {
        while (rd_kafka_message_t *m = rd_kafka_consumer_poll(m_rk, 0)) {
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
                deliver(m);
            else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                m_lastError = text(m->err);
            rd_kafka_message_destroy(m);
        }
    }

    void deliver(const rd_kafka_message_t *m)
    {
        BrokerDelivery d;
        d.topic = QString::fromUtf8(rd_kafka_topic_name(m->rkt));
        d.body = QByteArray(static_cast<const char *>(m->payload), qsizetype(m->len));
        rd_kafka_headers_t *headers = nullptr;
        if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *name = nullptr;
            const void *value = nullptr;
            size_t size = 0;
            for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
                 ++i) {
                const QString n = QString::fromUtf8(name).toLower();
                const QString v = QString::fromUtf8(static_cast<const char *>(value), qsizetype(size));
                if (n == QLatin1String("content-type"))
                    d.contentType = v;
                else if (n.startsWith(QLatin1String("ce_")))
                    d.properties.append({n.mid(3), v});
            }
        }
        m_onMessage(d);
    }

    QByteArray m_topic;
    MessageHandler m_onMessage;
};

class KafkaTransportPlugin final : public QObject, public TransportPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OutboxTransportPlugin_iid FILE "kafka.json")
    Q_INTERFACES(outbox::TransportPlugin)

public:
    QString problem(const QUrl &target, const BrokerOptions &) const override
    {
        if (target.host().isEmpty())
            return QStringLiteral("a Kafka target needs a host: kafka://host:9092/TOPIC");
        const QString topic = topicOf(target);
        if (topic.isEmpty())
            return QStringLiteral("a Kafka target needs a topic: kafka://%1/TOPIC").arg(target.host());
        static const QRegularExpression legal(QStringLiteral("^[A-Za-z0-9._-]{1,249}$"));
        if (!legal.match(topic).hasMatch() || topic == QLatin1String(".") || topic == QLatin1String(".."))
            return QStringLiteral("'%1' is not a Kafka topic (letters, digits, '.', '_' and '-', at most 249)")
                .arg(topic);
        QString problem = passwordInUrlProblem(target, QStringLiteral("a Kafka URL"));
        if (problem.isEmpty())
            problem = unknownQueryItemProblem(target, QStringLiteral("a Kafka target"),
                {QStringLiteral("bootstrap"), QStringLiteral("password-file"), QStringLiteral("sasl-mechanism")});
        if (!problem.isEmpty())
            return problem;
        const QUrlQuery query(target);
        if (target.userName().isEmpty()
            && (query.hasQueryItem(QStringLiteral("sasl-mechanism"))
                || query.hasQueryItem(QStringLiteral("password-file"))))
            return QStringLiteral("SASL on a Kafka target needs a user: kafka://USER@host:9092/TOPIC?password-file=F");
        if (!saslMechanisms().contains(saslMechanismOf(target)))
            return QStringLiteral("?sasl-mechanism= is one of %1").arg(saslMechanisms().join(QStringLiteral(", ")));
        if (!target.userName().isEmpty() && !query.hasQueryItem(QStringLiteral("password-file")))
            return QStringLiteral("SASL on a Kafka target takes the user's password from a file: ?password-file=F");
        return {};
    }

    BrokerPublisher *create(const QUrl &target, const BrokerOptions &options, QString *error) override
    {
        auto publisher = std::make_unique<KafkaPublisher>(target, options);
        if (!publisher->open(options, error))
            return nullptr;
        return publisher.release();
    }

    BrokerSubscriber *subscribe(const QUrl &source, const BrokerOptions &options,
        const BrokerSubscriber::MessageHandler &onMessage, QString *error) override
    {
        if (source.host().isEmpty() || topicOf(source).isEmpty()) {
            *error = QStringLiteral("a Kafka source needs a host and a topic: kafka://host:9092/TOPIC");
            return nullptr;
        }
        auto subscriber = std::make_unique<KafkaSubscriber>(source, onMessage);
        if (!subscriber->open(options, error))
            return nullptr;
        return subscriber.release();
    }
};

} // namespace
} // namespace outbox

#include "kafkatransport.moc"
