import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// A calm notice above the canvas with a few buttons (recovered autosave, file changed on disk).
Rectangle {
    id: banner
    property string text
    property var actions: []
    signal activated(int index)
    implicitHeight: 38
    color: Theme.warningSoft
    Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: Theme.warningBorder }
    RowLayout {
        anchors.fill: parent
        anchors.leftMargin: 12
        anchors.rightMargin: 8
        Label { text: banner.text; color: Theme.warning; Layout.fillWidth: true; elide: Text.ElideRight }
        Repeater {
            model: banner.actions
            delegate: Button {
                required property string modelData
                required property int index
                text: modelData
                flat: index > 0
                implicitHeight: 28
                onClicked: banner.activated(index)
            }
        }
    }
}
