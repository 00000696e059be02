// SPDX-License-Identifier: MIT
// The MQTT transport plug-in: CloudEvents published to an MQTT 5 broker with QoS 1 through libmosquitto, each
// event `sent` once the broker's PUBACK says it took it. Binary mode carries the attributes as MQTT user
// properties and datacontenttype as the content-type property (the CloudEvents MQTT binding, MQTT 5); structured
// mode sends the whole event as JSON with content type application/cloudevents+json.
// Target: mqtt://[user@]host[:1883]/TOPIC[?password-file=F] or mqtts://host[:8883]/TOPIC (the path without its
// first '/' is the topic; the engine reads the password file).

#include "brokeracks.h"
#include "brokerurl.h"
#include "transportplugin.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QRandomGenerator>
#include <QTimer>
#include <QUrlQuery>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <memory>

namespace outbox {
namespace {

// The path without its first '/'; a '#' (the multi-level wildcard, which a URL reads as its fragment) is part
// of it.
QString topicOf(const QUrl &url)
{
    QString topic = url.path(QUrl::FullyDecoded).mid(1);
    if (url.hasFragment())
        topic += QLatin1Char('#') + url.fragment(QUrl::FullyDecoded);
    return topic;
}

bool isTls(const QUrl &target)
{
    return target.scheme().compare(QLatin1String("mqtts"), Qt::CaseInsensitive) == 0;
}

// One connection to the broker, its network loop on libmosquitto's own thread. What that thread reports is
// handed to this object's thread (the relayer's, or the receiving command's) before anything is done with it.
class MqttClient : public QObject
{
public:
    explicit MqttClient(const QUrl &url) : m_url(url)
    {
        m_where = QStringLiteral("%1:%2").arg(url.host()).arg(url.port(isTls(url) ? 8883 : 1883));
        m_lastError = QStringLiteral("no connection (tried every 2 s)");
    }
    // Derived classes call shutdown() first in their destructors: the network thread must not call into a
    // half-destroyed object.
    ~MqttClient() override { shutdown(); }

    // Makes the client and starts connecting: a broker that is not there yet is no error (the client tries
    // every 2 s); false and why when the client cannot be made at all.
    bool open(const BrokerOptions &options, const QString &role, QString *error)
    {
        // Unique on the broker (it would drop an older connection with the same id): random, not a pointer.
        const QByteArray clientId = QStringLiteral("outbox-%1-%2-%3")
                                        .arg(role, options.clientName.left(40))
                                        .arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'))
                                        .toUtf8();
        m_mosq = mosquitto_new(clientId.constData(), true, this);
        if (!m_mosq) {
            *error = QStringLiteral("cannot make an MQTT client: %1").arg(QString::fromLocal8Bit(strerror(errno)));
            return false;
        }
        mosquitto_int_option(m_mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
        // Every 2 s while the broker is away: a message waits for the connection up to its timeout.
        mosquitto_reconnect_delay_set(m_mosq, 2, 2, false);
        mosquitto_max_inflight_messages_set(m_mosq, 0); // the broker's receive maximum applies
        mosquitto_connect_v5_callback_set(m_mosq, &MqttClient::onConnect);
        mosquitto_disconnect_v5_callback_set(m_mosq, &MqttClient::onDisconnect);
        setCallbacks(m_mosq);
        if (!m_url.userName().isEmpty()) {
            const QByteArray user = m_url.userName().toUtf8(), password = options.password.toUtf8();
            mosquitto_username_pw_set(m_mosq, user.constData(), password.isEmpty() ? nullptr : password.constData());
        }
        if (isTls(m_url)) {
            const QByteArray ca = options.caFile.toLocal8Bit(), cert = options.clientCertificateFile.toLocal8Bit(),
                             key = options.clientKeyFile.toLocal8Bit();
            const int rc = mosquitto_tls_set(m_mosq, ca.isEmpty() ? nullptr : ca.constData(),
                ca.isEmpty() ? "/etc/ssl/certs" : nullptr, cert.isEmpty() ? nullptr : cert.constData(),
                key.isEmpty() ? nullptr : key.constData(), nullptr);
            if (rc != MOSQ_ERR_SUCCESS) {
                *error =
                    QStringLiteral("TLS settings for %1: %2").arg(m_where, QString::fromUtf8(mosquitto_strerror(rc)));
                return false;
            }
        }
        return connectOrRetry(error);
    }

protected:
    virtual void setCallbacks(mosquitto *mosq) = 0;
    virtual void connected() { }
    virtual void disconnected() { }

    void shutdown()
    {
        if (!m_mosq)
            return;
        if (m_looping) {
            mosquitto_disconnect(m_mosq);
            mosquitto_loop_stop(m_mosq, true);
        }
        mosquitto_destroy(m_mosq);
        m_mosq = nullptr;
    }

    QUrl m_url;
    QString m_where;
    mosquitto *m_mosq = nullptr;
    bool m_connected = false;
    QString m_lastError;

private:
    // The first connection: libmosquitto's network thread reconnects after a lost connection, but gives up for
    // good when the very first one is refused; so that one is tried from here, every 2 s, until it is made.
    bool connectOrRetry(QString *error = nullptr)
    {
        if (!m_mosq)
            return false;
        const QByteArray host = m_url.host().toUtf8();
        const int rc = mosquitto_connect_async(m_mosq, host.constData(), m_url.port(isTls(m_url) ? 8883 : 1883), 30);
        if (rc != MOSQ_ERR_SUCCESS) {
            m_lastError =
                QStringLiteral("cannot connect: %1 (tried every 2 s)").arg(QString::fromUtf8(mosquitto_strerror(rc)));
            QTimer::singleShot(2000, this, [this] { connectOrRetry(); });
            return true;
        }
        const int loop = mosquitto_loop_start(m_mosq);
        if (loop != MOSQ_ERR_SUCCESS) {
            if (error)
                *error = QStringLiteral("cannot start the MQTT client's thread: %1")
                             .arg(QString::fromUtf8(mosquitto_strerror(loop)));
            return false;
        }
        m_looping = true;
        return true;
    }

    // ---- on libmosquitto's thread: hand over to ours ----
    static void onConnect(mosquitto *, void *self, int rc, int, const mosquitto_property *)
    {
        auto *c = static_cast<MqttClient *>(self);
        QMetaObject::invokeMethod(
            c, [c, rc] { c->handleConnect(rc); }, Qt::QueuedConnection);
    }
    static void onDisconnect(mosquitto *, void *self, int rc, const mosquitto_property *)
    {
        auto *c = static_cast<MqttClient *>(self);
        QMetaObject::invokeMethod(
            c, [c, rc] { c->handleDisconnect(rc); }, Qt::QueuedConnection);
    }

    void handleConnect(int rc)
    {
        m_connected = rc == 0;
        if (!m_connected) {
            m_lastError = QStringLiteral("connection refused: %1").arg(QString::fromUtf8(mosquitto_reason_string(rc)));
            return;
        }
        connected();
    }
    void handleDisconnect(int rc)
    {
        m_connected = false;
        m_lastError = rc == 0 ? QStringLiteral("disconnected")
                              : QStringLiteral("connection lost (%1)").arg(QString::fromUtf8(mosquitto_strerror(rc)));
        disconnected();
    }

    bool m_looping = false; // libmosquitto's network thread runs
};

// Publishes with QoS 1; an event is sent on its PUBACK.
class MqttPublisher final : public MqttClient, public BrokerPublisher
{
public:
    MqttPublisher(const QUrl &target, const BrokerOptions &options)
        : MqttClient(target), m_topic(topicOf(target).toUtf8()), m_timeoutMs(options.timeoutMs)
    {
        m_timer.setInterval(200);
        QObject::connect(&m_timer, &QTimer::timeout, this, [this] { expire(); });
        m_timer.start();
    }
    ~MqttPublisher() override { shutdown(); }

    void publish(const QList<BrokerMessage> &messages, const AckHandler &handler) override
    {
        const auto shared = std::make_shared<const AckHandler>(handler);
        if (!m_connected) {
            m_waiting.hold(messages, shared); // until the client connects (it tries every 2 s), or their timeout
            return;
        }
        publishNow(messages, shared);
    }

    int inFlight() const override { return int(m_inFlight.size() + m_waiting.size()); }

private:
    using Handler = AckOutbox::Handler;
    struct Pending
    {
        qint64 sequence = 0;
        QElapsedTimer since;
        Handler handler;
    };

    void publishNow(const QList<BrokerMessage> &messages, const Handler &handler)
    {
        for (const BrokerMessage &m : messages) {
            mosquitto_property *props = nullptr;
            for (const auto &[name, value] : m.attributes)
                mosquitto_property_add_string_pair(
                    &props, MQTT_PROP_USER_PROPERTY, name.toUtf8().constData(), value.toUtf8().constData());
            if (!m.contentType.isEmpty())
                mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, m.contentType.toUtf8().constData());
            int mid = 0;
            const int rc = mosquitto_publish_v5(
                m_mosq, &mid, m_topic.constData(), int(m.body.size()), m.body.constData(), 1, false, props);
            mosquitto_property_free_all(&props);
            if (rc == MOSQ_ERR_SUCCESS) {
                // Message ids wrap after 65,535: one still waiting under this id (its PUBACK 65,535 messages
                // late) gets its answer now, a retry, rather than never (its event would stay in flight).
                if (const auto old = m_inFlight.constFind(mid); old != m_inFlight.cend())
                    deliver(old->handler,
                        BrokerAck{old->sequence, BrokerAck::Kind::Retry,
                            QStringLiteral("no PUBACK from MQTT broker %1 before its message id %2 came round again")
                                .arg(m_where)
                                .arg(mid),
                            false});
                Pending p{m.sequence, {}, handler};
                p.since.start();
                m_inFlight.insert(mid, p);
            } else if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) {
                deliver(handler,
                    unavailable(m.sequence,
                        QStringLiteral("MQTT broker %1 unavailable: %2")
                            .arg(m_where, QString::fromUtf8(mosquitto_strerror(rc)))));
            } else {
                // Too large for the broker, a topic or text MQTT does not allow: no retry makes it go through.
                deliver(handler,
                    BrokerAck{m.sequence, BrokerAck::Kind::Failed,
                        QStringLiteral("MQTT publish to %1 refused: %2")
                            .arg(m_where, QString::fromUtf8(mosquitto_strerror(rc))),
                        false});
            }
        }
    }

    void deliver(const Handler &handler, const BrokerAck &ack) { m_acks.add(handler, ack); }

    static BrokerAck unavailable(qint64 sequence, const QString &why)
    {
        return BrokerAck{sequence, BrokerAck::Kind::Retry, why, true};
    }

    void setCallbacks(mosquitto *mosq) override { mosquitto_publish_v5_callback_set(mosq, &MqttPublisher::onPublish); }

    // PUBACKs come by the thousand: they are collected here and handed over in one call while none waits.
    static void onPublish(mosquitto *, void *self, int mid, int reason, const mosquitto_property *)
    {
        auto *p = static_cast<MqttPublisher *>(static_cast<MqttClient *>(self));
        QMutexLocker lock(&p->m_arrivedMutex);
        p->m_arrived.append({mid, reason});
        if (!std::exchange(p->m_arrivedPosted, true))
            QMetaObject::invokeMethod(
                p, [p] { p->takeArrived(); }, Qt::QueuedConnection);
    }

    void connected() override
    {
        for (const HeldMessages::Held &h : m_waiting.takeAll())
            publishNow({h.message}, h.handler);
    }

    void disconnected() override
    {
        // What was published and not acknowledged may or may not have reached the broker: tried again (at least
        // once; the client library may also re-send it on reconnecting, whose late PUBACK is then ignored).
        failAll(QStringLiteral("MQTT broker %1: %2 before its acknowledgement").arg(m_where, m_lastError), true);
    }

    void takeArrived()
    {
        QList<std::pair<int, int>> arrived;
        {
            QMutexLocker lock(&m_arrivedMutex);
            arrived = std::exchange(m_arrived, {});
            m_arrivedPosted = false;
        }
        for (const auto &[mid, reason] : arrived)
            acknowledged(mid, reason);
    }

    void acknowledged(int mid, int reason)
    {
        auto it = m_inFlight.find(mid);
        if (it == m_inFlight.end())
            return; // timed out or lost with the connection already
        const Pending p = *it;
        m_inFlight.erase(it);
        BrokerAck a{p.sequence, BrokerAck::Kind::Sent, {}, false};
        // 0 success, 16 "no matching subscribers": the broker has the message either way.
        if (reason >= 128) {
            const QString why = QStringLiteral("MQTT broker %1 refused the message: %2 (reason %3)")
                                    .arg(m_where, QString::fromUtf8(mosquitto_reason_string(reason)))
                                    .arg(reason);
            const bool passing = reason == MQTT_RC_QUOTA_EXCEEDED || reason == MQTT_RC_SERVER_BUSY
                || reason == MQTT_RC_MESSAGE_RATE_TOO_HIGH || reason == MQTT_RC_UNSPECIFIED
                || reason == MQTT_RC_IMPLEMENTATION_SPECIFIC;
            a = BrokerAck{p.sequence, passing ? BrokerAck::Kind::Retry : BrokerAck::Kind::Failed, why,
                reason == MQTT_RC_SERVER_BUSY};
        }
        deliver(p.handler, a);
    }

    void expire()
    {
        QList<int> late;
        for (auto it = m_inFlight.cbegin(); it != m_inFlight.cend(); ++it) {
            if (it->since.elapsed() >= m_timeoutMs)
                late.append(it.key());
        }
        for (int mid : late) {
            const Pending p = m_inFlight.take(mid);
            deliver(p.handler,
                BrokerAck{p.sequence, BrokerAck::Kind::Retry,
                    QStringLiteral("no PUBACK from MQTT broker %1 within %2 ms").arg(m_where).arg(m_timeoutMs), false});
        }
        // Not connected within the timeout: the broker is unavailable (the relayer holds its events).
        m_waiting.expire(
            m_timeoutMs, m_acks, QStringLiteral("MQTT broker %1 unavailable: %2").arg(m_where, m_lastError));
    }

    void failAll(const QString &why, bool brokerUnavailable)
    {
        const QHash<int, Pending> all = std::exchange(m_inFlight, {});
        for (const Pending &p : all)
            deliver(p.handler, BrokerAck{p.sequence, BrokerAck::Kind::Retry, why, brokerUnavailable});
    }

    QByteArray m_topic;
    int m_timeoutMs;
    QHash<int, Pending> m_inFlight; // by message id
    HeldMessages m_waiting; // published while not connected
    AckOutbox m_acks{this};
    QMutex m_arrivedMutex; // PUBACKs from the network thread, not yet taken (message id, reason)
    QList<std::pair<int, int>> m_arrived;
    bool m_arrivedPosted = false;
    QTimer m_timer;
};

// Subscribes with QoS 1 (to a topic filter: '+' and '#' allowed) and hands each message over as it comes.
class MqttSubscriber final : public MqttClient, public BrokerSubscriber
{
public:
    MqttSubscriber(const QUrl &source, MessageHandler onMessage)
        : MqttClient(source), m_filter(topicOf(source).toUtf8()), m_onMessage(std::move(onMessage))
    { }
    ~MqttSubscriber() override { shutdown(); }

    QString state() const override
    {
        return m_connected ? QStringLiteral("subscribed to %1 at %2").arg(QString::fromUtf8(m_filter), m_where)
                           : QStringLiteral("MQTT broker %1: %2").arg(m_where, m_lastError);
    }

private:
    void setCallbacks(mosquitto *mosq) override { mosquitto_message_v5_callback_set(mosq, &MqttSubscriber::onMessage); }

    // (Again after each reconnection: the session is a clean one.)
    void connected() override { mosquitto_subscribe_v5(m_mosq, nullptr, m_filter.constData(), 1, 0, nullptr); }

    static void onMessage(mosquitto *, void *self, const mosquitto_message *message, const mosquitto_property *props)
    {
        BrokerDelivery d;
        d.topic = QString::fromUtf8(message->topic);
        d.body = QByteArray(static_cast<const char *>(message->payload), message->payloadlen);
        for (const mosquitto_property *p = props; p; p = mosquitto_property_next(p)) {
            const int id = mosquitto_property_identifier(p);
            char *name = nullptr, *value = nullptr;
            if (id == MQTT_PROP_USER_PROPERTY
                && mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, false)) {
                d.properties.append({QString::fromUtf8(name), QString::fromUtf8(value)});
            } else if (id == MQTT_PROP_CONTENT_TYPE
                && mosquitto_property_read_string(p, MQTT_PROP_CONTENT_TYPE, &value, false)) {
                d.contentType = QString::fromUtf8(value);
            }
            free(name);
            free(value);
        }
        auto *s = static_cast<MqttSubscriber *>(static_cast<MqttClient *>(self));
        QMetaObject::invokeMethod(
            s, [s, d] { s->m_onMessage(d); }, Qt::QueuedConnection);
    }

    QByteArray m_filter;
    MessageHandler m_onMessage;
};

class MqttTransportPlugin final : public QObject, public TransportPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID OutboxTransportPlugin_iid FILE "mqtt.json")
    Q_INTERFACES(outbox::TransportPlugin)

public:
    MqttTransportPlugin() { mosquitto_lib_init(); }

    QString problem(const QUrl &target, const BrokerOptions &) const override
    {
        if (target.host().isEmpty())
            return QStringLiteral("an MQTT target needs a host: mqtt://host:1883/TOPIC");
        const QString topic = topicOf(target);
        if (topic.isEmpty())
            return QStringLiteral("an MQTT target needs a topic: mqtt://%1/TOPIC").arg(target.host());
        if (topic.contains(QLatin1Char('+')) || topic.contains(QLatin1Char('#')))
            return QStringLiteral("the MQTT topic '%1' holds a wildcard ('+' or '#'): publish to one topic").arg(topic);
        const QString problem = passwordInUrlProblem(target, QStringLiteral("an MQTT URL"));
        if (!problem.isEmpty())
            return problem;
        return unknownQueryItemProblem(target, QStringLiteral("an MQTT target"), {QStringLiteral("password-file")});
    }

    BrokerPublisher *create(const QUrl &target, const BrokerOptions &options, QString *error) override
    {
        auto publisher = std::make_unique<MqttPublisher>(target, options);
        if (!publisher->open(options, QStringLiteral("pub"), error))
            return nullptr;
        return publisher.release();
    }

    BrokerSubscriber *subscribe(const QUrl &source, const BrokerOptions &options,
        const BrokerSubscriber::MessageHandler &onMessage, QString *error) override
    {
        if (source.host().isEmpty() || topicOf(source).isEmpty()) {
            *error = QStringLiteral("an MQTT source needs a host and a topic (filter): mqtt://host:1883/TOPIC");
            return nullptr;
        }
        auto subscriber = std::make_unique<MqttSubscriber>(source, onMessage);
        if (!subscriber->open(options, QStringLiteral("sub"), error))
            return nullptr;
        return subscriber.release();
    }
};

} // namespace
} // namespace outbox

#include "mqtttransport.moc"
