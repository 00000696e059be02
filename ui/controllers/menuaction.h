// SPDX-License-Identifier: MIT
#pragma once

#include <QAction>
#include <QKeySequence>
#include <QMenu>

namespace outbox::ui {

// A menu entry with the object name tests and the window find it by, its shortcut (none when empty), and
// what it does, run in receiver's context.
template<typename Slot>
QAction *addMenuAction(
    QMenu *menu, const QString &text, const QString &name, const QKeySequence &key, const QObject *receiver, Slot slot)
{
    QAction *a = menu->addAction(text);
    a->setObjectName(name);
    if (!key.isEmpty())
        a->setShortcut(key);
    QObject::connect(a, &QAction::triggered, receiver, slot);
    return a;
}

} // namespace outbox::ui
