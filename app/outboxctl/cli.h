// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"
#include "outboxevent.h"
#include "storage.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>
#include <QHash>
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
    void refuseArguments() const; // for commands without positional arguments
    bool isSet(const QString &name) const { return m_parser.isSet(name); }
    QString value(const QString &name) const { return m_parser.value(name); }
    QStringList values(const QString &name) const { return m_parser.values(name); }
    QStringList positional() const { return m_parser.positionalArguments(); }
    // For a service: reads a setting from the flag, else the environment (OUTBOX_BATCH_SIZE for batch-size),
    // else the --config file (INI: batch-size=100), in that order. Call loadConfig() after parse().
    void loadConfig();
    QString setting(const QString &name) const;
    bool hasSetting(const QString &name) const { return !setting(name).isNull(); }
    // Every value of a setting: the flag's (repeatable), else the one of the environment or the file.
    QStringList settings(const QString &name) const;
    // A whole number setting within [min, max], or the default when absent.
    int intValue(const QString &name, int defaultValue, int min, int max) const;
    std::unique_ptr<outbox::Storage> openStorage(outbox::Storage::OpenMode mode) const;
    outbox::ConnectionSpec connectionSpec() const;

private:
    QString m_name;
    QCommandLineParser m_parser;
    QHash<QString, QString> m_config; // from --config
    QStringList m_optionNames; // every option this command knows
    QStringList m_switches; // those that take no value (not settings: a config file cannot set them)
    bool m_usesSettings = false;
};

void printLine(const QString &line);
// One JSON object on one line; with an event's data, that data is placed under "data" as stored (when it is
// JSON: numbers spelled and keys ordered as stored), else as text or data_base64.
void printJson(const QJsonObject &object, const outbox::OutboxEvent *dataOf = nullptr);
// The same as text; Indented for people (show).
QByteArray jsonText(QJsonObject object, QJsonDocument::JsonFormat format, const QByteArray *data = nullptr,
    const QString &contentType = QString());
void printError(const QString &line);

// The event's attributes and state; its data goes in through printJson or jsonText.
QJsonObject eventJson(const outbox::OutboxEvent &event);
QJsonValue dataJson(const QByteArray &data, const QString &contentType, QString *key);
QString defaultDatabasePath();

} // namespace cli
