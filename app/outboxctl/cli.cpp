// SPDX-License-Identifier: MIT
#include "cli.h"

#include "jsontext.h"
#include "relayerconfig.h"

#include "cloudevents.h"
#include "configfiles.h"
#include "relayersettings.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrl>
#include <QStringDecoder>

#include <cstdio>

namespace cli {

void fail(int code, const QString &message)
{
    throw Exit{code, message};
}

Command::Command(const QString &name, const QString &synopsis) : m_name(name)
{
    m_parser.setApplicationDescription(synopsis);
    m_parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    m_parser.addOption(QCommandLineOption(QStringLiteral("db"),
        QStringLiteral("The outbox: sqlite:///abs.db, sqlite:rel.db, postgresql://user:pass@host:port/db or "
                       "mysql://user:pass@host:port/db (default: $OUTBOX_DB, else a file in the user's data "
                       "directory)."),
        QStringLiteral("url")));
    m_parser.addHelpOption();
}

void Command::addOption(const QString &name, const QString &description, const QString &valueName)
{
    m_optionNames.append(name);
    if (valueName.isEmpty())
        m_switches.append(name);
    m_parser.addOption(QCommandLineOption(name, description, valueName));
}

void Command::parse(const QStringList &arguments)
{
    if (!m_parser.parse(QStringList{QStringLiteral("outboxctl ") + m_name} + arguments))
        fail(BadUsage, m_parser.errorText() + QStringLiteral(" (see 'outboxctl %1 --help')").arg(m_name));
    if (m_parser.isSet(QStringLiteral("help"))) {
        // The usage line names the command, not the path the program was started by.
        QString help = m_parser.helpText();
        const qsizetype options = help.indexOf(QLatin1String(" [options]"));
        if (help.startsWith(QLatin1String("Usage: ")) && options > 0 && options < help.indexOf(QLatin1Char('\n')))
            help.replace(7, options - 7, QStringLiteral("outboxctl ") + m_name);
        std::fputs(qPrintable(help), stdout);
        throw Exit{Done, {}};
    }
}

void Command::refuseArguments() const
{
    if (!m_parser.positionalArguments().isEmpty())
        fail(BadUsage,
            QStringLiteral("unexpected argument '%1' (see 'outboxctl %2 --help')")
                .arg(m_parser.positionalArguments().first(), m_name));
}

void Command::loadConfig()
{
    m_usesSettings = true;
    if (!m_parser.isSet(QStringLiteral("config")))
        return;
    const QString path = m_parser.value(QStringLiteral("config"));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        fail(BadUsage, QStringLiteral("cannot read the config file '%1': %2").arg(path, file.errorString()));
    // A plain "name = value" file (INI without sections; '#' and ';' start comments), so systemd's
    // EnvironmentFile and a hand-written config look alike.
    int lineNumber = 0;
    for (const QByteArray &raw : file.readAll().split('\n')) {
        ++lineNumber;
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')) || line.startsWith(QLatin1Char(';'))
            || line.startsWith(QLatin1Char('[')))
            continue;
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq <= 0)
            fail(BadUsage, QStringLiteral("%1:%2: expected name = value").arg(path).arg(lineNumber));
        const QString name = line.left(eq).trimmed();
        if ((!m_optionNames.contains(name) && name != QLatin1String("db")) || name == QLatin1String("config"))
            fail(BadUsage, QStringLiteral("%1:%2: unknown setting '%3'").arg(path).arg(lineNumber).arg(name));
        if (m_switches.contains(name))
            fail(BadUsage,
                QStringLiteral("%1:%2: '%3' is a command-line switch, not a setting")
                    .arg(path)
                    .arg(lineNumber)
                    .arg(name));
        QString value = line.mid(eq + 1).trimmed();
        // A comment after the value (" # ..."), and quotes around it, are not part of it.
        static const QRegularExpression trailingComment(QStringLiteral("\\s+[#;].*$"));
        value.remove(trailingComment);
        if (value.size() >= 2 && (value.startsWith(QLatin1Char('"')) || value.startsWith(QLatin1Char('\'')))
            && value.endsWith(value.front()))
            value = value.mid(1, value.size() - 2);
        // ${NAME}: the environment variable's value (e.g. systemd's ${CREDENTIALS_DIRECTORY}).
        static const QRegularExpression variable(QStringLiteral("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}"));
        for (auto m = variable.match(value); m.hasMatch();) {
            const QString replacement = qEnvironmentVariable(m.captured(1).toLatin1().constData());
            value.replace(m.capturedStart(), m.capturedLength(), replacement);
            m = variable.match(value, m.capturedStart() + replacement.size()); // a value is not expanded again
        }
        m_config.insert(name, value);
    }
    // A header or a database password in the file makes it a secret file, held to the same rule as a header
    // file (the systemd unit reads exactly this file).
    const bool secret =
        m_config.contains(QStringLiteral("header")) || !QUrl(m_config.value(QStringLiteral("db"))).password().isEmpty();
    if (secret) {
        if (const QString problem = outbox::secretFileProblem(path, QStringLiteral("config file")); !problem.isEmpty())
            fail(BadUsage, problem);
    }
}

QString Command::setting(const QString &name) const
{
    if (m_parser.isSet(name))
        return m_parser.value(name);
    if (!m_usesSettings)
        return {};
    const QByteArray env = "OUTBOX_" + name.toUpper().replace(QLatin1Char('-'), QLatin1Char('_')).toLatin1();
    if (qEnvironmentVariableIsSet(env.constData()))
        return qEnvironmentVariable(env.constData());
    return m_config.value(name); // null when absent
}

QStringList Command::settings(const QString &name) const
{
    if (m_parser.isSet(name))
        return m_parser.values(name);
    const QString one = setting(name);
    return one.isNull() ? QStringList() : QStringList{one};
}

int Command::intValue(const QString &name, int defaultValue, int min, int max) const
{
    const QString text = setting(name);
    if (text.isNull())
        return defaultValue;
    int value = 0;
    if (QString problem; !outbox::parseWholeNumberSetting(name, text, min, max, &value, &problem))
        fail(BadUsage, problem);
    return value;
}

QString defaultDatabasePath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    return QDir(dir).filePath(QStringLiteral("outbox.db"));
}

outbox::ConnectionSpec Command::connectionSpec() const
{
    QString url = m_parser.value(QStringLiteral("db"));
    if (url.isEmpty())
        url = m_config.value(QStringLiteral("db"));
    if (url.isEmpty())
        url = qEnvironmentVariable("OUTBOX_DB");
    if (url.isEmpty())
        return outbox::ConnectionSpec::sqlite(defaultDatabasePath());
    auto spec = outbox::ConnectionSpec::fromUrl(url);
    if (!spec.isOk())
        fail(BadUsage, spec.error().message());
    return *spec;
}

std::unique_ptr<outbox::Storage> Command::openStorage(outbox::Storage::OpenMode mode) const
{
    auto storage = outbox::Storage::open(connectionSpec(), mode);
    if (!storage.isOk()) {
        const auto code = storage.error().code();
        fail(code == outbox::Error::InvalidArgument || code == outbox::Error::NotFound
                    || code == outbox::Error::Unsupported
                ? BadUsage
                : RuntimeFailure,
            storage.error().message());
    }
    return std::move(storage.value());
}

void printLine(const QString &line)
{
    // Human-readable output: control characters from outside (a receiver's error text, an event's data)
    // must not reach the operator's terminal as escape sequences. Tabs and line breaks stay.
    QString clean = line;
    for (QChar &c : clean) {
        if (c.category() == QChar::Other_Control && c != QLatin1Char('\n') && c != QLatin1Char('\t'))
            c = QChar(0xfffd);
    }
    std::fputs(clean.toUtf8().constData(), stdout);
    std::fputc('\n', stdout);
}

QByteArray jsonText(
    QJsonObject object, QJsonDocument::JsonFormat format, const QByteArray *data, const QString &contentType)
{
    QByteArray asStored;
    if (data && !data->isEmpty() && outbox::cloudevents::isJsonContentType(contentType)
        && outbox::cloudevents::isValidJson(*data)) {
        asStored = *data;
    } else if (data) {
        QString key;
        const QJsonValue value = dataJson(*data, contentType, &key);
        object.insert(key, value);
    }
    QByteArray text = QJsonDocument(object).toJson(format);
    if (!asStored.isEmpty()) {
        // Spliced in before the closing brace, never parsed into a QJsonValue (which would round 64-bit
        // integers through a double, turn -0 into 0 and sort keys).
        const qsizetype close = text.lastIndexOf('}');
        const char *comma = object.isEmpty() ? "" : ",";
        if (format == QJsonDocument::Indented)
            text = text.left(text.lastIndexOf('\n', close)) + comma
                + "\n    \"data\": " + outbox::indentJson(asStored, 4, 1).toUtf8() + "\n}\n";
        else
            text = text.left(close) + comma + "\"data\":" + outbox::compactJson(asStored) + "}";
    }
    return outbox::escapeC1Controls(text);
}

void printJson(const QJsonObject &object, const outbox::OutboxEvent *dataOf)
{
    const QByteArray text = dataOf ? jsonText(object, QJsonDocument::Compact, &dataOf->data, dataOf->contentType)
                                   : jsonText(object, QJsonDocument::Compact);
    std::fwrite(text.constData(), 1, size_t(text.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void printError(const QString &line)
{
    // One line: control characters from outside input must not break it.
    QString clean = line;
    for (QChar &c : clean) {
        if (c.category() == QChar::Other_Control)
            c = QLatin1Char(' ');
    }
    std::fprintf(stderr, "outboxctl: %s\n", clean.toUtf8().constData());
}

QJsonValue dataJson(const QByteArray &data, const QString &contentType, QString *key)
{
    *key = QStringLiteral("data");
    if (data.isEmpty())
        return QJsonValue();
    if (outbox::cloudevents::isJsonContentType(contentType) && outbox::cloudevents::isValidJson(data)) {
        QByteArray wrapped = "[" + data + "]";
        return QJsonDocument::fromJson(wrapped).array().first();
    }
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder(data);
    if (!decoder.hasError())
        return text;
    *key = QStringLiteral("data_base64");
    return QString::fromLatin1(data.toBase64());
}

static QJsonValue timeJson(const QDateTime &t)
{
    return t.isValid() ? QJsonValue(outbox::cloudevents::formatTime(t)) : QJsonValue();
}

QJsonObject eventJson(const outbox::OutboxEvent &e)
{
    QJsonObject o;
    o.insert(QStringLiteral("seq"), e.sequence);
    o.insert(QStringLiteral("id"), e.id);
    o.insert(QStringLiteral("status"), outbox::statusName(e.status));
    if (!e.formatStatus.isEmpty())
        o.insert(QStringLiteral("format_status"), e.formatStatus);
    o.insert(QStringLiteral("type"), e.type);
    o.insert(QStringLiteral("source"), e.source);
    o.insert(QStringLiteral("subject"), e.subject.isEmpty() ? QJsonValue() : QJsonValue(e.subject));
    o.insert(QStringLiteral("datacontenttype"), e.contentType.isEmpty() ? QJsonValue() : QJsonValue(e.contentType));
    o.insert(QStringLiteral("key"), e.orderingKey.isEmpty() ? QJsonValue() : QJsonValue(e.orderingKey));
    o.insert(QStringLiteral("extensions"), e.extensions);
    o.insert(QStringLiteral("attempts"), e.attempts);
    o.insert(QStringLiteral("next_attempt_at"),
        e.status == outbox::EventStatus::Pending ? timeJson(e.nextAttemptAt) : QJsonValue());
    o.insert(QStringLiteral("lease_owner"), e.leaseOwner.isEmpty() ? QJsonValue() : QJsonValue(e.leaseOwner));
    o.insert(QStringLiteral("lease_expires_at"), timeJson(e.leaseExpiresAt));
    o.insert(QStringLiteral("last_error"), e.lastError.isEmpty() ? QJsonValue() : QJsonValue(e.lastError));
    o.insert(QStringLiteral("last_http_status"), e.lastHttpStatus > 0 ? QJsonValue(e.lastHttpStatus) : QJsonValue());
    o.insert(QStringLiteral("created_at"), timeJson(e.createdAt));
    o.insert(QStringLiteral("sent_at"), timeJson(e.sentAt));
    o.insert(QStringLiteral("replay_of"), e.replayOf.isEmpty() ? QJsonValue() : QJsonValue(e.replayOf));
    return o;
}

} // namespace cli
