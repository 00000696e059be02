// SPDX-License-Identifier: MIT
#pragma once

// What the outboxctl commands share (commandutil.cpp).

#include "cli.h"

#include "error.h"
#include "storage.h"

#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <utility>

// The names every command file uses (this header is included only by them).
using namespace outbox;
using cli::BadUsage;
using cli::Command;
using cli::Done;
using cli::fail;
using cli::RuntimeFailure;

// The bytes of a file, or of standard input for "-"; a file that cannot be read fails the command.
QByteArray readInput(const QString &path);
// --ext NAME=VALUE pairs as CloudEvents extension attributes (numbers and booleans as such).
QJsonObject parseExtensions(const QStringList &pairs);
// The exit code for an engine error (cli's codes).
int exitFor(const Error &e);
// Runs handler on SIGINT or SIGTERM, from the event loop, while context lives.
void onTermination(QObject *context, const std::function<void()> &handler);
// The event filter of list, retry --all and friends, from their options.
EventFilter filterFrom(const Command &cmd);
// The ids given (at least one), or a usage error naming what they are for.
QStringList requireIds(const Command &cmd, const QString &what);
// One line for an operator action: how many changed and why the rest were skipped; the exit code.
int reportSummary(const ActionSummary &s, const QString &verb, const QString &skipReason);
// The engine's secret-file reader, with its one-line error as a usage error.
QByteArray readSecretFile(const QString &path, const QString &what);
