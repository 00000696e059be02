#pragma once

#include "connectionspec.h"
#include "outboxevent.h"
#include "storage.h"

#include <QCommandLineParser>
#include <QJsonObject>
#include <QStringList>

#include <memory>

// The pieces every outboxctl command shares: argument parsing, opening the outbox, output and exit codes.
namespace cli {

enum ExitCode { Done = 0, RuntimeFailure = 1, BadUsage = 2 };

// Thrown to leave a command with one line on stderr and an exit code.
struct Exit
{
    int code;
    QString message;
};

[[noreturn]] void fail(int code, const QString &message);

// One command's parser: its own options plus the global --db.
class Command
{
public:
    Command(const QString &name, const QString &synopsis);
    QCommandLineParser &parser() { return m_parser; }
    void addOption(const QString &name, const QString &description, const QString &valueName = {});
    void parse(const QStringList &arguments); // exits with BadUsage on unknown options
    bool isSet(const QString &name) const { return m_parser.isSet(name); }
    QString value(const QString &name) const { return m_parser.value(name); }
    QStringList values(const QString &name) const { return m_parser.values(name); }
    QStringList positional() const { return m_parser.positionalArguments(); }
    // A whole number option within [min, max], or the default when absent.
    int intValue(const QString &name, int defaultValue, int min, int max) const;
    std::unique_ptr<outbox::Storage> openStorage(outbox::Storage::OpenMode mode) const;
    outbox::ConnectionSpec connectionSpec() const;

private:
    QString m_name;
    QCommandLineParser m_parser;
};

void printLine(const QString &line);
void printJson(const QJsonObject &object);
void printError(const QString &line);

QJsonObject eventJson(const outbox::OutboxEvent &event, bool withData);
QJsonValue dataJson(const QByteArray &data, const QString &contentType, QString *key);
QString defaultDatabasePath();

} // namespace cli
