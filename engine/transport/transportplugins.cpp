// SPDX-License-Identifier: MIT
#include "transportplugins.h"

#include "configfiles.h"

#include "attributes.h"
#include "cloudevents.h"
#include "transport.h"
#include "transportplugin.h"
#include "receiver.h"
#include "relayerconfig.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QMutex>
#include <QPluginLoader>
#include <QUrlQuery>

#include <map>
#include <memory>

#ifndef OUTBOX_TRANSPORT_PLUGIN_SUBDIR
#define OUTBOX_TRANSPORT_PLUGIN_SUBDIR "lib/outbox-console/transports"
#endif
#ifndef OUTBOX_INSTALL_PREFIX
#define OUTBOX_INSTALL_PREFIX "/usr/local"
#endif

namespace outbox {
namespace detail {

namespace {

// (Types of this file's own in the containers below: their template code stays out of the library's exported
// symbols.)
struct Loaded
{
    std::unique_ptr<QPluginLoader> loader;
};

struct PluginRegistry
{
    QMutex mutex;
    bool scanned = false;
    QHash<QString, QString> fileByScheme; // scheme -> plug-in file (the first found wins)
    // file -> its loader, once loaded; the plug-ins stay loaded for the process's life (publishers made by one
    // may outlive any caller), the loaders go with this registry at exit.
    std::map<QString, Loaded> loaders;
};

PluginRegistry &registry()
{
    static PluginRegistry r;
    return r;
}

void scan(PluginRegistry &r)
{
    if (r.scanned)
        return;
    r.scanned = true;
    for (const QString &dir : transportPluginDirs()) {
        const QDir d(dir);
        for (const QString &name : d.entryList({QStringLiteral("*.so")}, QDir::Files, QDir::Name)) {
            const QString file = d.absoluteFilePath(name);
            const QJsonObject meta = QPluginLoader(file).metaData();
            if (meta.value(QStringLiteral("IID")).toString() != QLatin1String(OutboxTransportPlugin_iid))
                continue;
            for (const QJsonValue scheme :
                meta.value(QStringLiteral("MetaData")).toObject().value(QStringLiteral("schemes")).toArray()) {
                const QString s = scheme.toString().toLower();
                if (!s.isEmpty() && !r.fileByScheme.contains(s))
                    r.fileByScheme.insert(s, file);
            }
        }
    }
}

// The plug-in of the scheme, loaded on first use; null and why when there is none or it does not load.
TransportPlugin *pluginFor(const QString &scheme, QString *error)
{
    PluginRegistry &r = registry();
    QMutexLocker lock(&r.mutex);
    scan(r);
    const QString file = r.fileByScheme.value(scheme.toLower());
    if (file.isEmpty()) {
        *error = QStringLiteral("no transport for %1:// targets is installed (looked in %2)")
                     .arg(scheme, transportPluginDirs().join(QStringLiteral(", ")));
        return nullptr;
    }
    std::unique_ptr<QPluginLoader> &loader = r.loaders[file].loader;
    if (!loader)
        loader = std::make_unique<QPluginLoader>(file);
    auto *plugin = qobject_cast<TransportPlugin *>(loader->instance());
    if (!plugin)
        *error = QStringLiteral("the %1:// transport %2 does not load: %3").arg(scheme, file, loader->errorString());
    return plugin;
}

// The user JWT and NKey seed of a NATS credentials file, as `nsc` and cnats write and read it: each the first
// line after a dashed line that names it ("-----BEGIN NATS USER JWT-----", "-----BEGIN USER NKEY SEED-----").
bool parseCredentials(const QByteArray &content, QString *jwt, QString *seed)
{
    QString *next = nullptr;
    for (const QByteArray &raw : content.split('\n')) {
        const QByteArray line = raw.trimmed();
        if (line.startsWith("---")) {
            next = line.contains("BEGIN") && line.contains("JWT") ? jwt
                : line.contains("BEGIN") && line.contains("SEED") ? seed
                                                                  : nullptr;
        } else if (next && !line.isEmpty()) {
            if (next->isEmpty())
                *next = QString::fromLatin1(line);
            next = nullptr;
        }
    }
    return !jwt->isEmpty() && !seed->isEmpty();
}

// The secret file a target names in query item `item`, read under readSecretFile's rules into `content`, once the
// URL's user is checked: a password or a seed file needs one, a file that stands for the user refuses one
// (`userProblem`, with %1 the scheme, says which). False with `error` on a problem; `given`: the item is there.
bool secretFileOf(const QUrl &url, const QString &item, const QString &what, bool needsUser, const char *userProblem,
    bool *given, QByteArray *content, QString *error)
{
    const QString file = QUrlQuery(url).queryItemValue(item, QUrl::FullyDecoded);
    *given = !file.isEmpty();
    if (!*given)
        return true;
    if (url.userName().isEmpty() == needsUser) {
        *error = QString::fromUtf8(userProblem).arg(url.scheme());
        return false;
    }
    return readSecretFile(file, what, content, error);
}

// The secrets a broker URL names by file: the user's password (?password-file=), a token (?token-file=, for
// brokers that take one instead of a user), an NKey seed (?nkey-seed-file=, the user being its public key) and
// a credentials file (?creds-file=: a user JWT and its seed), each read with the rules of every secret file (its
// owner alone may read it). False and why when a file is not fit, or the URL lacks the user it needs or has one
// it must not.
bool secretsOf(const QUrl &url, BrokerOptions *options, QString *error)
{
    QByteArray content;
    bool given = false;
    if (!secretFileOf(url, QStringLiteral("password-file"), QStringLiteral("password file"), true,
            "a password file needs a user in the URL (%1://USER@host/...)", &given, &content, error))
        return false;
    if (given)
        options->password = QString::fromUtf8(content.trimmed());
    if (!secretFileOf(url, QStringLiteral("token-file"), QStringLiteral("token file"), false,
            "a token file stands for the user: a URL with one takes no user (%1://host/...)", &given, &content, error))
        return false;
    if (given)
        options->token = QString::fromUtf8(content.trimmed());
    if (!secretFileOf(url, QStringLiteral("nkey-seed-file"), QStringLiteral("NKey seed file"), true,
            "an NKey seed file needs the key's public half as the URL's user (%1://U...@host/...)", &given, &content,
            error))
        return false;
    if (given)
        options->nkeySeed = QString::fromUtf8(content.trimmed());
    if (!secretFileOf(url, QStringLiteral("creds-file"), QStringLiteral("credentials file"), false,
            "a credentials file names the user: a URL with one takes no user (%1://host/...)", &given, &content, error))
        return false;
    if (given && !parseCredentials(content, &options->userJwt, &options->nkeySeed)) {
        *error = QStringLiteral("the credentials file '%1' does not hold a user JWT and an NKey seed (the "
                                "\"BEGIN NATS USER JWT\" and \"BEGIN USER NKEY SEED\" blocks nsc writes)")
                     .arg(QUrlQuery(url).queryItemValue(QStringLiteral("creds-file"), QUrl::FullyDecoded));
        return false;
    }
    return true;
}

BrokerOptions optionsOf(const RelayerConfig &c)
{
    BrokerOptions o;
    o.timeoutMs = c.requestTimeoutMs;
    o.maxInFlight = c.concurrency;
    o.caFile = c.caCertificatesFile;
    o.clientCertificateFile = c.clientCertificateFile;
    o.clientKeyFile = c.clientKeyFile;
    o.clientName = c.name;
    return o;
}

// What one send() call still waits for, and since when (in a shared_ptr: see Loaded).
struct SendCall
{
    qsizetype remaining = 0;
    QElapsedTimer clock;
};

// Relays through a plug-in's publisher: every event of a send() is handed to the broker's client at once (it
// keeps its own in-flight window), and each acknowledgement becomes the event's outcome as it arrives.
class PluginTransport final : public Transport
{
public:
    // A broker takes a window of messages and acknowledges them as it stores them: up to kBatches batches are
    // handed over before their acknowledgements are in, and the next is claimed while fewer than all but two
    // batches' worth wait (so the window never drains while the database claims).
    static constexpr int kBatches = 8;
    PluginTransport(std::unique_ptr<BrokerPublisher> publisher, ContentMode mode, int batchSize, QObject *parent)
        : Transport(parent), m_publisher(std::move(publisher)), m_mode(mode), m_mark((kBatches - 2) * batchSize)
    { }
    int batchesInHand() const override { return kBatches; }

    void send(const QList<OutboxEvent> &events, const ResultHandler &handler, qint64) override
    {
        QList<BrokerMessage> messages;
        messages.reserve(events.size());
        for (const OutboxEvent &e : events)
            messages.append(message(e));
        if (messages.isEmpty()) {
            handler({}, true);
            return;
        }
        auto call = std::make_shared<SendCall>();
        call->remaining = messages.size();
        call->clock.start();
        m_wasLow = false;
        m_publisher->publish(messages, [this, handler, call](const QList<BrokerAck> &acks) {
            QList<Outcome> outcomes;
            outcomes.reserve(acks.size());
            for (const BrokerAck &a : acks)
                outcomes.append(Outcome{a.sequence, result(a, call->clock.elapsed()), false});
            call->remaining -= acks.size();
            handler(outcomes, call->remaining <= 0);
            if (m_low && isLow() && !std::exchange(m_wasLow, true))
                m_low();
        });
    }
    void leasesRenewed(qint64) override { }
    void setLowWaterHandler(const std::function<void()> &handler, int queued) override
    {
        m_low = handler;
        m_mark = qMax(m_mark, queued);
    }
    bool isLow() const override { return m_publisher->inFlight() < m_mark; }
    void cancelQueued() override { } // nothing waits here: the broker's client has every message

private:
    BrokerMessage message(const OutboxEvent &e) const
    {
        BrokerMessage m;
        m.sequence = e.sequence;
        m.id = e.id;
        m.orderingKey = e.orderingKey;
        m.structured = m_mode == ContentMode::Structured;
        if (m.structured) {
            m.contentType = QStringLiteral("application/cloudevents+json; charset=utf-8");
            m.body = cloudevents::structuredJson(e);
        } else {
            m.attributes = cloudevents::detail::binaryAttributes(e);
            m.contentType = e.contentType;
            m.body = e.data;
        }
        return m;
    }

    static DeliveryResult result(const BrokerAck &a, qint64 ms)
    {
        DeliveryResult r = a.kind == BrokerAck::Kind::Sent ? DeliveryResult::sent(0)
            : a.kind == BrokerAck::Kind::Retry             ? DeliveryResult::retry(a.error)
                                                           : DeliveryResult::failed(a.error);
        if (a.brokerUnavailable)
            r.cause = DeliveryResult::Cause::TargetUnavailable;
        r.durationMs = ms;
        return r;
    }

    std::unique_ptr<BrokerPublisher> m_publisher;
    ContentMode m_mode;
    int m_mark;
    std::function<void()> m_low;
    bool m_wasLow = false;
};

} // namespace

bool isBuiltInScheme(const QString &scheme)
{
    const QString s = scheme.toLower();
    return s == QLatin1String("http") || s == QLatin1String("https");
}

QStringList transportPluginDirs()
{
    QStringList dirs;
    for (const QString &d :
        qEnvironmentVariable("OUTBOX_TRANSPORT_PLUGIN_PATH").split(QLatin1Char(':'), Qt::SkipEmptyParts))
        dirs << d;
    // Installed: below the program's own prefix (a package installs to /usr whatever the build's prefix was),
    // the build's prefix, and /usr; then a build tree's plugins/transports beside the program's directory.
    const QString sub = QStringLiteral("/" OUTBOX_TRANSPORT_PLUGIN_SUBDIR);
    QStringList prefixes;
    if (QCoreApplication::instance())
        prefixes << QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/.."));
    prefixes << QStringLiteral(OUTBOX_INSTALL_PREFIX) << QStringLiteral("/usr");
    for (const QString &prefix : prefixes) {
        const QString dir = QDir::cleanPath(prefix + sub);
        if (!dirs.contains(dir))
            dirs << dir;
    }
    if (QCoreApplication::instance())
        dirs << QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../plugins/transports"));
    return dirs;
}

QString pluginTargetProblem(const RelayerConfig &config)
{
    const QString scheme = config.targetUrl.scheme();
    QString error;
    TransportPlugin *plugin = pluginFor(scheme, &error);
    if (!plugin)
        return error;
    if (config.contentMode == ContentMode::Batch)
        return QStringLiteral("batched mode is for HTTP targets: a %1:// target takes binary or structured")
            .arg(scheme);
    if (!config.headers.isEmpty() || !config.signingSecret.isEmpty())
        return QStringLiteral("headers and signatures are for HTTP targets: a %1:// target takes neither").arg(scheme);
    BrokerOptions secrets;
    if (!secretsOf(config.targetUrl, &secrets, &error))
        return error;
    return plugin->problem(config.targetUrl, optionsOf(config));
}

std::unique_ptr<BrokerSubscriber> subscribeToBroker(
    const QUrl &source, const std::function<void(const ReceivedRequest &)> &onRequest, QString *error)
{
    TransportPlugin *plugin = pluginFor(source.scheme(), error);
    if (!plugin)
        return nullptr;
    BrokerOptions options;
    options.clientName = QStringLiteral("receive");
    if (!secretsOf(source, &options, error))
        return nullptr;
    auto handler = [onRequest](const BrokerDelivery &d) {
        // As an HTTP request in the binding the content type says: structured as it is, binary with each
        // property as a ce- header (percent-encoded as the HTTP binding wants, so decode() reads them back).
        ReceivedRequest r;
        r.receivedAt = QDateTime::currentDateTimeUtc();
        r.method = "PUBLISH";
        r.target = d.topic.toUtf8();
        if (!d.contentType.isEmpty())
            r.message.addHeader("content-type", d.contentType.toUtf8());
        if (!d.contentType.startsWith(QLatin1String("application/cloudevents"))) {
            for (const auto &[name, value] : d.properties)
                r.message.addHeader("ce-" + name.toLower().toUtf8(),
                    value.toUtf8().toPercentEncoding("!#$&'()*+,/:;<=>?@[\\]^_`{|}~-."));
        }
        r.message.body = d.body;
        r.decoded = cloudevents::decode(r.message);
        onRequest(r);
    };
    return std::unique_ptr<BrokerSubscriber>(plugin->subscribe(source, options, handler, error));
}

Transport *createPluginTransport(const RelayerConfig &config, QObject *parent, QString *error)
{
    TransportPlugin *plugin = pluginFor(config.targetUrl.scheme(), error);
    if (!plugin)
        return nullptr;
    BrokerOptions options = optionsOf(config);
    if (!secretsOf(config.targetUrl, &options, error))
        return nullptr;
    std::unique_ptr<BrokerPublisher> publisher(plugin->create(config.targetUrl, options, error));
    if (!publisher)
        return nullptr;
    return new PluginTransport(std::move(publisher), config.contentMode, qMax(1, config.batchSize), parent);
}

} // namespace detail
} // namespace outbox
