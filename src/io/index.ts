export { escapeRegExp, syncFolder, tempPathFor, toTempPattern, writeFileAtomic, writeFileAtomicStream } from './atomic-write.js';
export { withFileLock, removeDeadTemps, type FileLockOptions, type HeldLock } from './file-lock.js';
export { decodeUtf8, readBoundedBytes, readBoundedText, recode, type ReadErrorCode, type ReadOptions } from './read.js';
export { makeFolder, makeFolderSync } from './make-folder.js';
export { describeJsonValue, parseJsonStrict } from './strict-json.js';
export { commitFile, confine, createFile, discardFile, inPlace, openPartial, placeLink, renameInto, type OpenedPartial, type WriteRoot } from './confine.js';
